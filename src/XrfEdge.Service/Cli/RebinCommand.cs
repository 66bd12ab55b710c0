using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra.Interchange;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Service.Cli;

/// <summary>
/// <c>xrfedge rebin --input FILE [--json] [--offset-kev X --gain-kev-per-channel Y]</c>: the 300-bin model-grid spectrum
/// (0–30 keV, 0.1 keV bins, counts before any normalisation) of each spectrum in the file. With <c>--json</c>, one line
/// per spectrum: <c>{"id","counts":[300],"counts_outside_kev_range","total_counts"}</c>, or <c>{"id"?,"error"}</c>.
/// Exit code 0 when every spectrum was rebinned, 1 when any failed (the others are still printed), 2 for usage errors,
/// 130 when SIGINT/SIGTERM stopped it between spectra (those read are written first, as identify does), 141 when its
/// standard output is a pipe whose reader has gone.
/// </summary>
internal static class RebinCommand
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var input = new SpectrumInputOptions();
        var json = new Option<bool>("--json") { Description = "One JSON object per spectrum and line: id, counts[300], counts_outside_kev_range, total_counts" };
        var command = new Command("rebin", "Rebin every spectrum of a file to the model grid: 300 bins of 0.1 keV, 0–30 keV") { json };
        input.AddTo(command);
        // SIGINT/SIGTERM stop it between spectra (exit 130), as identify; until 2026-11-24 the runtime killed it at once,
        // mid-line on a pipe, without a word.
        command.SetAction((parse, ct) => XrfEdgeCommandLine.CancelledOnTerminationAsync(
            token => Task.FromResult(Run(parse.GetValue(input.Input)!.FullName, input.ReadOptions(parse), parse.GetValue(json), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, token)),
            ct));
        return command;
    }

    /// <summary>Rebins every spectrum of <paramref name="path"/> until <paramref name="cancellationToken"/> is cancelled; returns the exit code.</summary>
    internal static int Run(string path, SpectrumReadOptions options, bool asJson, TextWriter output, TextWriter errors, CancellationToken cancellationToken = default)
    {
        // `rebin --input big.jsonl | head`: the first spectrum nobody can read ends the run (exit 0 until 2026-11-24).
        return PipeStandardOutput.Run("rebin", errors, () => Rebin(path, options, asJson, output, errors, cancellationToken));
    }

    private static int Rebin(string path, SpectrumReadOptions options, bool asJson, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        var failed = 0;
        var succeeded = 0;
        var target = new double[ModelGrid.BinCount];
        var input = new InterruptibleInput(cancellationToken);
        foreach (var result in input.Read(SpectrumFileReader.ReadAll(path, options)))
        {
            if (!result.IsSuccess)
            {
                failed++;
                Report(output, errors, asJson, result.Id, result.Error!);
                continue;
            }

            var spectrum = result.Spectrum!.Spectrum;
            double outside;
            try
            {
                outside = Rebinner.Rebin(spectrum.Counts, spectrum.Calibration, target);
            }
            catch (ArgumentException ex)
            {
                failed++;
                Report(output, errors, asJson, spectrum.Id, $"{path}: spectrum \"{spectrum.Id}\": {ex.Message}");
                continue;
            }

            succeeded++;
            if (asJson)
            {
                WriteJson(output, spectrum.Id, target, outside, spectrum.TotalCounts);
            }
            else
            {
                WriteTable(output, result, target, outside);
            }
        }

        if (input.Interrupted)
        {
            if (failed > 0)
            {
                errors.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rebin: {failed} of {failed + succeeded} spectra read could not be rebinned (named above)"));
            }

            errors.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rebin: interrupted after {succeeded + failed} spectra; their results are written above, the rest of {path} was not read"));
            return SynthCommand.InterruptedExitCode;
        }

        if (failed == 0 && succeeded == 0)
        {
            Report(output, errors, asJson, null, $"{path}: the file holds no spectra");
            return 1;
        }

        if (failed > 0)
        {
            errors.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rebin: {failed} of {failed + succeeded} spectra could not be rebinned (named above); the others were"));
        }

        return failed == 0 ? 0 : 1;
    }

    private static void Report(TextWriter output, TextWriter errors, bool asJson, string? id, string message)
    {
        // Always on stderr (until 2026-11-24 --json wrote it only into the stdout stream, unseen when redirected); --json
        // keeps its documented {"id"?,"error"} row too, so that a consumer can account for every spectrum of the file.
        errors.WriteLine("error: " + SpectrumJsonl.EscapeControlCharacters(message));
        if (!asJson)
        {
            return;
        }

        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            if (id is not null)
            {
                writer.WriteString("id", id);
            }

            writer.WriteString("error", message);
            writer.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void WriteJson(TextWriter output, string id, double[] counts, double outside, long total)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteStartArray("counts");
            foreach (var value in counts)
            {
                writer.WriteNumberValue(value);
            }

            writer.WriteEndArray();
            writer.WriteNumber("counts_outside_kev_range", outside);
            writer.WriteNumber("total_counts", total);
            writer.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void WriteTable(TextWriter output, SpectrumReadResult result, double[] counts, double outside)
    {
        var spectrum = result.Spectrum!.Spectrum;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"# {spectrum.Id}: {spectrum.Counts.Length} channels, {spectrum.Calibration}, total {spectrum.TotalCounts} counts, {outside:F3} outside 0–30 keV"));
        output.WriteLine("bin  lower_keV  upper_keV  counts");
        for (var bin = 0; bin < counts.Length; bin++)
        {
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{bin,3}  {ModelGrid.BinLowerKeV(bin),9:F1}  {ModelGrid.BinLowerKeV(bin + 1),9:F1}  {counts[bin]:G10}"));
        }
    }
}
