using System.CommandLine;
using System.Globalization;
using XrfEdge.Synthesis;
using XrfEdge.Synthesis.Datasets;

namespace XrfEdge.Service.Cli;

/// <summary>
/// <c>xrfedge synth --count N --seed S [--profile P] [--format npy|jsonl] --out PATH [--threads T] [--independent-of S…] [--plot FILE.svg [--index I]]</c>:
/// physics-based synthetic spectra as a training set (npy folder) or as interchange <c>.jsonl</c>, and/or one spectrum drawn as SVG.
/// Exit codes (docs/synthesis.md): 0 done, 1 cannot write (or not enough free space), 2 bad arguments, 130 interrupted (SIGINT/SIGTERM).
/// </summary>
internal static class SynthCommand
{
    public static Command Create()
    {
        var count = new Option<long>("--count") { Description = "Number of spectra (indices 0 … N−1)", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed; the same seed, profile and count give byte-identical output", DefaultValueFactory = _ => 1 };
        var profile = new Option<string>("--profile") { Description = $"Generator profile: {string.Join(", ", GeneratorProfiles.Names)}, or a path to a profile .json", DefaultValueFactory = _ => GeneratorProfiles.DefaultName };
        var format = new Option<string>("--format") { Description = "Output format: npy (training-set folder) or jsonl (interchange file)", DefaultValueFactory = _ => "jsonl" };
        format.AcceptOnlyFromAmong("npy", "jsonl");
        var output = new Option<string?>("--out") { Description = "Output folder (npy) or file (jsonl)" };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (default: all cores); the output does not depend on it" };
        var plot = new Option<string?>("--plot") { Description = "Also draw one spectrum (see --index) as SVG to this file: log counts, lines marked" };
        var index = new Option<long>("--index") { Description = "Index of the spectrum that --plot draws", DefaultValueFactory = _ => 0 };
        var labelSystematic = new Option<double>("--label-systematic")
        {
            Description = "Relative systematic uncertainty of the background in the labels' detection limit, L_D = 2.71 + 4.65·sqrt(B + (εB)²); 0 = Currie",
            DefaultValueFactory = _ => 0,
        };
        var independentOf = new Option<ulong[]>("--independent-of")
        {
            Description = "Seeds of the other sets (e.g. training, test) this set must share no random state with; refused (exit 2) if it does",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("synth", "Generate physics-based synthetic XRF spectra with detection-limit labels")
        {
            count, seed, profile, format, output, threads, plot, index, labelSystematic, independentOf,
        };
        // SIGINT/SIGTERM cancel the writers, which remove their partial files; without a token the runtime killed the
        // process at once and left arrays whose headers claimed rows never written.
        command.SetAction((parse, ct) => XrfEdgeCommandLine.CancelledOnTerminationAsync(token => Task.FromResult(Run(
            parse.GetValue(count),
            parse.GetValue(seed),
            parse.GetValue(profile)!,
            parse.GetValue(format)!,
            parse.GetValue(output),
            parse.GetValue(threads),
            parse.GetValue(plot),
            parse.GetValue(index),
            parse.GetValue(labelSystematic),
            Console.Out,
            Console.Error,
            parse.GetValue(independentOf),
            token)), ct));
        return command;
    }

    /// <summary>Exit code of a run stopped by SIGINT/SIGTERM (128 + SIGINT, what a shell reports for Ctrl-C).</summary>
    internal const int InterruptedExitCode = 130;

    internal static int Run(
        long count,
        ulong seed,
        string profileName,
        string format,
        string? output,
        int? threads,
        string? plot,
        long index,
        double labelSystematic,
        TextWriter stdout,
        TextWriter stderr,
        IReadOnlyList<ulong>? independentOf = null,
        CancellationToken cancellationToken = default)
    {
        if (output is null && plot is null)
        {
            stderr.WriteLine("synth: give --out (a folder for --format npy, a .jsonl file for --format jsonl) and/or --plot FILE.svg");
            return 2;
        }

        if (count < 1)
        {
            stderr.WriteLine("synth: --count must be at least 1");
            return 2;
        }

        if (threads is < 1)
        {
            stderr.WriteLine("synth: --threads must be at least 1");
            return 2;
        }

        if (plot is not null && index < 0)
        {
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"synth: --index must be 0 or more (spectra are numbered 0 … N−1), got {index}"));
            return 2;
        }

        if (!(labelSystematic >= 0 && labelSystematic <= 0.5))
        {
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"synth: --label-systematic must be between 0 and 0.5 (a fraction of the background), got {labelSystematic}"));
            return 2;
        }

        if (plot is not null && Directory.Exists(plot))
        {
            stderr.WriteLine($"synth: --plot {plot} is a directory; give the SVG file to write, e.g. {Path.Combine(plot, "spectrum.svg")}");
            return 2;
        }

        if (ProfilePathProblem(profileName) is { } profileProblem)
        {
            stderr.WriteLine($"synth: --profile {profileName} {profileProblem}; give a profile .json file or a built-in profile: {string.Join(", ", GeneratorProfiles.Names)}");
            return 2;
        }

        GeneratorProfile profile;
        try
        {
            profile = GeneratorProfiles.Load(profileName);
        }
        catch (ArgumentException ex)
        {
            // Without the "(Parameter 'json')" that ArgumentException appends: a name from inside the loader.
            var message = ex.ParamName is { } name ? ex.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : ex.Message;
            stderr.WriteLine($"synth: {message}");
            return 2;
        }

        // Sets meant to be independent (training, validation, test) are made with different seeds, and two seeds that each
        // pass SeedCheck can still share state words between their sets (1001 and 1003; the same seed twice shares all).
        foreach (var other in output is null ? [] : independentOf ?? [])
        {
            if (SeedCheck.FindShared(seed, other, count) is { } shared)
            {
                stderr.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"synth: --independent-of {other}: the set of seed {seed} is not independent of the set of seed {other}: spectrum {shared.Index} of seed {seed} and spectrum {shared.OtherIndex} of seed {other} start their random streams from a shared state word ({shared.Pairs} shared words among the first {shared.Checked} spectra of each; docs/synthesis.md, \"Known weakness of the seeding\"); pick another seed"));
                return 2;
            }
        }

        var generator = new SpectrumGenerator(profile, seed) { LabelSystematicFraction = labelSystematic };
        if (output is not null && SeedCheck.Find(seed, count) is { } overlap)
        {
            // A warning, not a refusal: such sets are fine for demos and tests, and the output stays reproducible.
            stderr.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"synth: warning: seed {seed}: spectra {overlap.IndexA} and {overlap.IndexB} start their random streams from a shared state word ({overlap.Pairs} repeated words among the first {overlap.Checked} spectra), so they are not independent (docs/synthesis.md, \"Known weakness of the seeding\"); for data that must be independent use a seed like 1001"));
        }
        // The file named in an error is the one being written when it happened: a failed plot after a written data set
        // must not say the data set could not be written.
        var writing = output ?? plot;
        // The folders an npy run creates (the output and any missing parents, deepest first): removed again, when
        // empty, if the run is interrupted or fails, so that only a finished set leaves a folder behind.
        var created = output is not null && format == "npy" ? FoldersToCreate(output) : [];
        try
        {
            if (output is not null)
            {
                DatasetSummary summary;
                if (format == "npy")
                {
                    summary = NpyDatasetWriter.Write(generator, count, output, threads, new Progress<long>(n => stderr.Write(string.Create(CultureInfo.InvariantCulture, $"\r{n}/{count}"))), cancellationToken);
                    stderr.WriteLine();
                }
                else
                {
                    summary = JsonlDatasetWriter.Write(generator, count, output, threads, cancellationToken);
                }

                stdout.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"wrote {summary.Count} spectra ({format}, profile {profile.Name}, seed {seed}) to {output} in {summary.Elapsed.TotalSeconds:F2} s ({summary.SpectraPerSecond:F0} spectra/s)"));
            }

            if (plot is not null)
            {
                writing = plot;
                var spectrum = generator.Generate(index);
                var svg = SpectrumPlot.ToSvg(spectrum);
                AtomicFile.Write(plot, temporary => File.WriteAllText(temporary, svg));
                stdout.WriteLine($"drew spectrum {spectrum.Spectrum.Id} to {plot}");
            }
        }
        catch (IOException ex)
        {
            RemoveEmpty(created);
            stderr.WriteLine($"synth: cannot write {writing}: {ex.Message}");
            return 1;
        }
        catch (UnauthorizedAccessException ex)
        {
            RemoveEmpty(created);
            stderr.WriteLine($"synth: cannot write {writing}: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            RemoveEmpty(created);
            stderr.WriteLine();
            stderr.WriteLine($"synth: interrupted; {writing} was not written (its partial files were removed, an earlier set there is as it was)");
            return InterruptedExitCode;
        }

        return 0;
    }

    /// <summary>
    /// What is wrong with a --profile that is neither a built-in name nor a readable .json file, or null: the loader's
    /// "unknown generator profile" for a directory or a data set (<c>s.jsonl</c>) sent the reader looking for a typo.
    /// </summary>
    private static string? ProfilePathProblem(string profileName)
    {
        if (GeneratorProfiles.Names.Contains(profileName))
        {
            return null;
        }

        if (Directory.Exists(profileName))
        {
            return "is a directory, not a profile file";
        }

        return File.Exists(profileName) && !profileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? "is not a .json profile (a profile file's name ends in .json)"
            : null;
    }

    /// <summary>The folders that creating <paramref name="directory"/> would make, deepest first (empty when it exists).</summary>
    private static List<string> FoldersToCreate(string directory)
    {
        var missing = new List<string>();
        for (var folder = Path.GetFullPath(directory); folder is not null && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
        {
            missing.Add(folder);
        }

        return missing;
    }

    /// <summary>Removes the folders this run created, deepest first, as long as each is empty; never one that existed before.</summary>
    private static void RemoveEmpty(List<string> created)
    {
        foreach (var folder in created)
        {
            try
            {
                if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
                {
                    Directory.Delete(folder);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Something else wrote there meanwhile, or it cannot be removed: leaving an empty folder is harmless,
                // and the error that led here is the one to report.
                return;
            }
        }
    }
}
