using System.Globalization;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Tests.Formats;

/// <summary>
/// The 64-channel CSV spectra and the read helpers that <see cref="CsvFieldTests"/> and <see cref="CsvEnergyEdgeTests"/>
/// share: channel centres at 0.02 + 0.04·c keV, counts c mod 5, and a fallback calibration that differs from the file's
/// energies, so a test sees which one was used.
/// </summary>
internal static class CsvTestFiles
{
    // 64 channels, the fewest accepted (SpectrumJsonl.MinChannels).
    public const int Channels = 64;

    // Channel centres at 0.02 + 0.04·c keV: 0.04 keV/channel, a plausible EDS gain inside EnergyCalibration.Validate's limits.
    public const double GainKeV = 0.04;
    public const double OffsetKeV = 0.02;

    public static readonly SpectrumReadOptions Fallback = new() { FallbackCalibration = new EnergyCalibration(0, 0.1) };

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static long Count(int channel) => channel % 5;

    public static string Rows(Func<int, string> row) => string.Concat(Enumerable.Range(0, Channels).Select(c => row(c) + "\n"));

    public static string Centre(int channel) => Invariant($"{OffsetKeV + (GainKeV * channel):0.00}");

    /// <summary>Reads <paramref name="text"/> as <paramref name="source"/> and asserts an error containing <paramref name="problem"/> that names the file.</summary>
    public static SpectrumReadResult Fails(string text, string source, string problem)
    {
        var result = CsvSpectrumReader.Read(new StringReader(text), source, Fallback);
        Assert.False(result.IsSuccess, $"expected an error containing \"{problem}\", read a spectrum");
        Assert.Contains(problem, result.Problem, StringComparison.Ordinal);
        Assert.StartsWith(source, result.Error, StringComparison.Ordinal);
        return result;
    }

    /// <summary>Reads <paramref name="text"/> as <paramref name="source"/> and asserts it reads.</summary>
    public static XrfEdge.Spectra.RawSpectrum Reads(string text, string source)
    {
        var result = CsvSpectrumReader.Read(new StringReader(text), source, Fallback);
        Assert.True(result.IsSuccess, result.Error);
        return result.Spectrum!.Spectrum;
    }
}
