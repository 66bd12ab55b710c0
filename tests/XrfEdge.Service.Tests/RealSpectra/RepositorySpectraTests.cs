using XrfEdge.Devices.Formats;
using XrfEdge.Inference;
using XrfEdge.Service.Options;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Tests.RealSpectra;

/// <summary>
/// Every spectrum file and every instrument profile in the repository is read and identified by the shipped int8 model
/// (second review of the whole-range calibration limits, 2026-11-24): a calibration limit must not refuse a real
/// instrument or file accepted before, and a new file or profile added later is checked without a line here.
/// The files: validation/spectra/**, the readers' fixtures, and ../shared/spectra/** when it is next to the checkout.
/// </summary>
public sealed class RepositorySpectraTests
{
    // Spectrum file extensions the readers detect (SpectrumFileReader.DetectFormat).
    private static readonly string[] Extensions = [".msa", ".emsa", ".mca", ".spe", ".csv", ".tsv", ".txt", ".jsonl"];

    // For the fixtures that carry no calibration by design (channel-counts.csv, counts-only.tsv): 10 eV/channel, as a user
    // gives with --offset-kev/--gain-kev-per-channel. A file's own calibration is used whenever it has one.
    private static readonly SpectrumReadOptions Options = new() { FallbackCalibration = new EnergyCalibration(0, 0.01) };

    private static readonly Lazy<LineEncoder> ShippedModel = new(() => LineEncoder.Open(RepositoryRoot.Combine("models", "xrf-line-encoder.int8.onnx")));

    public static TheoryData<string> Files()
    {
        var folders = new List<string> { RepositoryRoot.Combine("validation", "spectra"), RepositoryRoot.Combine("tests", "XrfEdge.Devices.Tests", "Fixtures") };
        var shared = Path.GetFullPath(Path.Combine(RepositoryRoot.Path, "..", "shared", "spectra"));
        if (Directory.Exists(shared))
        {
            folders.Add(shared);
        }

        var data = new TheoryData<string>();
        foreach (var file in folders
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            .Where(file => Extensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase))
            .Where(file => !Path.GetFileName(file).StartsWith("LICENSE", StringComparison.Ordinal) && !Path.GetFileName(file).StartsWith("NOTICE", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(RepositoryRoot.Path, file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ReadAndIdentify_EveryRepositorySpectrumFile_CalibrationAcceptedAndIdentified(string file)
    {
        var results = SpectrumFileReader.ReadAll(Path.Combine(RepositoryRoot.Path, file), Options).ToList();

        Assert.NotEmpty(results);
        var identifier = new SpectrumIdentifier(ShippedModel.Value);
        foreach (var result in results)
        {
            // two-good-one-bad.jsonl's middle line has 3 channels by design (the jsonl reader's error test): that is not a
            // calibration refusal, and every other spectrum must read.
            if (!result.IsSuccess && Path.GetFileName(file) == "two-good-one-bad.jsonl")
            {
                Assert.Contains("channels", result.Problem, StringComparison.Ordinal);
                continue;
            }

            Assert.True(result.IsSuccess, result.Error);
            var spectrum = result.Spectrum!.Spectrum;
            Assert.Null(spectrum.Calibration.Validate(spectrum.Counts.Length));
            var identification = identifier.Identify(spectrum);
            Assert.NotNull(identification.Coverage);
            Assert.NotEqual(CoverageStatus.None, identification.Coverage.Status);
        }
    }

    public static TheoryData<string> Profiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(RepositoryRoot.Combine("firmware-config"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void LoadAndIdentify_EveryFirmwareConfigProfile_CalibrationAcceptedAtItsChannelCount(string file)
    {
        var settings = ProfileLoader.Load(
            RepositoryRoot.Combine("firmware-config", file),
            ["Model:Path=" + RepositoryRoot.Combine("models", "xrf-line-encoder.int8.onnx")],
            new Dictionary<string, string?> { ["STATE_DIRECTORY"] = "/var/lib/xrfedge" });

        var c = settings.Calibration;
        var calibration = new EnergyCalibration(c.OffsetKeV, c.GainKeVPerChannel, c.QuadraticKeVPerChannel2);
        var channels = settings.Acquisition.ChannelCount;
        Assert.Null(calibration.Validate(channels));

        // A flat spectrum at the profile's MCAC, as its MCA would send: it reaches the model (no refusal on the way).
        var spectrum = new RawSpectrum { Id = file, Counts = Enumerable.Repeat(100L, channels).ToArray(), Calibration = calibration };
        var identification = new SpectrumIdentifier(ShippedModel.Value).Identify(spectrum);
        Assert.NotNull(identification.Coverage);
        Assert.NotEqual(CoverageStatus.None, identification.Coverage.Status);
    }
}
