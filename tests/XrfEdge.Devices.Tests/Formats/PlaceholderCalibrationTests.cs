using System.Globalization;
using System.Text;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Tests.Formats;

/// <summary>
/// Second review of the whole-range calibration limits (2026-11-24): "energy = channel number" (offset 0, 1 keV/channel,
/// no quadratic term) is what MCA software writes when nothing was calibrated. Over more than 1000 channels the full-scale
/// limit refuses it; the refusal must say it is that placeholder, and the calibration given on the command line
/// (--offset-kev, --gain-kev-per-channel) must be able to replace it, as it replaces a missing one.
/// </summary>
public sealed class PlaceholderCalibrationTests
{
    // 2048 channels: 0 + 1·c keV ends at 2047.5 "keV", above EnergyCalibration.MaxFullScaleKeV (1000).
    private const int Channels = 2048;

    // 10 eV/channel over 2048 channels (0–20.48 keV): a plausible SDD setting.
    private static readonly SpectrumReadOptions Fallback = new() { FallbackCalibration = new EnergyCalibration(0, 0.01) };

    private static string Spe(string fit, int channels = Channels) =>
        "$SPEC_ID:\nplaceholder\n$MEAS_TIM:\n10 10\n$DATA:\n0 " + (channels - 1).ToString(CultureInfo.InvariantCulture) + "\n"
        + string.Concat(Enumerable.Range(0, channels).Select(c => (c % 11).ToString(CultureInfo.InvariantCulture) + "\n"))
        + "$ENER_FIT:\n" + fit + "\n";

    private static string Msa(string perChannel, int channels = Channels) =>
        "#FORMAT      : EMSA/MAS Spectral Data File\n#VERSION     : 1.0\n#NPOINTS     : " + channels.ToString(CultureInfo.InvariantCulture)
        + "\n#DATATYPE    : Y\n#XUNITS      : keV\n#XPERCHAN    : " + perChannel + "\n#OFFSET      : 0\n#SPECTRUM    :\n"
        + string.Join(", ", Enumerable.Range(0, channels).Select(c => (c % 11).ToString(CultureInfo.InvariantCulture))) + "\n#ENDOFDATA   :\n";

    private static SpectrumReadResult ReadOne(string text, string source, SpectrumReadOptions options) =>
        Assert.Single(SpectrumFileReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), source, options));

    public static TheoryData<string, string> Placeholders => new()
    {
        { "placeholder.spe", Spe("0.000000 1.000000") },
        { "placeholder.msa", Msa("1.0") },
        // Within the full-scale limit, but still no calibration: 0–30 keV would be the first 30 channels, whatever
        // the MCA measured there (until 2026-11-24 such a file was identified; a random-count probe reported Te at 0.98
        // with coverage "full").
        { "placeholder-512.spe", Spe("0.000000 1.000000", 512) },
        { "placeholder-1000.msa", Msa("1.0", 1000) },
    };

    [Theory]
    [MemberData(nameof(Placeholders))]
    public void Read_ChannelNumberPlaceholderWithCommandLineCalibration_UsesTheCommandLineOne(string source, string text)
    {
        var result = ReadOne(text, source, Fallback);

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(Fallback.FallbackCalibration, result.Spectrum!.Spectrum.Calibration);
    }

    [Theory]
    [MemberData(nameof(Placeholders))]
    public void Read_ChannelNumberPlaceholderAlone_RefusedAsAPlaceholderNamingTheFix(string source, string text)
    {
        var result = ReadOne(text, source, SpectrumReadOptions.Default);

        Assert.False(result.IsSuccess);
        Assert.StartsWith(source, result.Error, StringComparison.Ordinal);
        Assert.Contains("placeholder", result.Problem, StringComparison.Ordinal);
        Assert.Contains("--offset-kev", result.Problem, StringComparison.Ordinal);
        // Not the eV-read-as-keV hint of a real calibration in the wrong unit.
        Assert.DoesNotContain("eV calibration labelled keV", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RealCalibrationWithCommandLineCalibration_FileStillWins()
    {
        // Only the placeholder gives way: a file's real calibration still wins over the command line's.
        var result = ReadOne(Msa("0.01"), "real.msa", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.02) });

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(0.01, result.Spectrum!.Spectrum.Calibration.GainKeVPerChannel, 12);
    }
}
