using System.CommandLine;
using System.Globalization;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Service.Cli;

/// <summary>
/// The command-line options the verbs that read "any spectrum file" share (<c>rebin</c>, <c>identify</c>):
/// <c>--input</c>, <c>--format</c>, <c>--offset-kev</c>, <c>--gain-kev-per-channel</c>,
/// <c>--quadratic-kev-per-channel2</c>, <c>--negative-counts</c>. Add them with <see cref="AddTo"/> (or, for a verb
/// with its own <c>--input</c>, <see cref="AddReadOptionsTo"/>), then turn a parse result into
/// <see cref="SpectrumReadOptions"/> with <see cref="ReadOptions"/> and read with <see cref="SpectrumFileReader.ReadAll"/>.
/// </summary>
internal sealed class SpectrumInputOptions
{
    /// <summary>The spectrum file.</summary>
    public Option<FileInfo> Input { get; } = new("--input", "-i")
    {
        Description = "Spectrum file: .mca (Amptek), .spe (ORTEC), .msa/.emsa (EMSA), .csv/.tsv, .jsonl",
        Required = true,
    };

    /// <summary>Forces the format instead of detecting it.</summary>
    public Option<SpectrumFileFormat?> Format { get; } = new("--format")
    {
        Description = "Force the file format (AmptekMca, Spe, Msa, Csv, Jsonl) instead of detecting it",
    };

    /// <summary>Fallback calibration offset, keV.</summary>
    public Option<double?> OffsetKeV { get; } = new("--offset-kev")
    {
        Description = "Energy of channel 0's centre in keV, for files without a calibration (with --gain-kev-per-channel)",
    };

    /// <summary>Fallback calibration gain, keV per channel.</summary>
    public Option<double?> GainKeVPerChannel { get; } = new("--gain-kev-per-channel")
    {
        Description = "keV per channel, for files without a calibration (with --offset-kev)",
    };

    /// <summary>Fallback calibration quadratic term, keV per channel².</summary>
    public Option<double?> QuadraticKeVPerChannel2 { get; } = new("--quadratic-kev-per-channel2")
    {
        Description = "Quadratic term in keV/channel² for the fallback calibration (default 0)",
    };

    /// <summary>Negative channel values: reject or clamp.</summary>
    public Option<NegativeCountHandling?> NegativeCounts { get; } = new("--negative-counts")
    {
        Description = "Reject or ClampToZero negative channel values (default: clamp in EMSA files, reject elsewhere)",
    };

    /// <summary>Adds the options and their cross-checks to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Input);
        AddReadOptionsTo(command);
    }

    /// <summary>Adds every option but <see cref="Input"/>, and their cross-checks, to <paramref name="command"/>.</summary>
    public void AddReadOptionsTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Format);
        command.Options.Add(OffsetKeV);
        command.Options.Add(GainKeVPerChannel);
        command.Options.Add(QuadraticKeVPerChannel2);
        command.Options.Add(NegativeCounts);
        command.Validators.Add(result =>
        {
            var offset = result.GetValue(OffsetKeV);
            var gain = result.GetValue(GainKeVPerChannel);
            // NaN passed "must be positive" (NaN <= 0 is false), and every spectrum was then reported unreadable (exit 1).
            foreach (var (option, value) in new[] { (OffsetKeV, offset), (GainKeVPerChannel, gain), (QuadraticKeVPerChannel2, result.GetValue(QuadraticKeVPerChannel2)) })
            {
                if (value is { } v && !double.IsFinite(v))
                {
                    result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be a finite number, got {v}"));
                    return;
                }
            }

            if (offset.HasValue != gain.HasValue)
            {
                result.AddError("--offset-kev and --gain-kev-per-channel must be given together");
            }
            else if (result.GetValue(QuadraticKeVPerChannel2).HasValue && !offset.HasValue)
            {
                result.AddError("--quadratic-kev-per-channel2 needs --offset-kev and --gain-kev-per-channel");
            }
            else if (offset.HasValue && gain <= 0)
            {
                result.AddError("--gain-kev-per-channel must be positive");
            }
        });
    }

    /// <summary>The reader options the parsed command line asks for.</summary>
    public SpectrumReadOptions ReadOptions(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var offset = parse.GetValue(OffsetKeV);
        var gain = parse.GetValue(GainKeVPerChannel);
        return new SpectrumReadOptions
        {
            Format = parse.GetValue(Format),
            NegativeCounts = parse.GetValue(NegativeCounts),
            FallbackCalibration = offset is { } o && gain is { } g
                ? new EnergyCalibration(o, g, parse.GetValue(QuadraticKeVPerChannel2) ?? 0)
                : null,
        };
    }
}
