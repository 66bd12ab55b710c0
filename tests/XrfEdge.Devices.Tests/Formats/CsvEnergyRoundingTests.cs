using XrfEdge.Devices.Formats;
using static XrfEdge.Devices.Tests.Formats.CsvTestFiles;

namespace XrfEdge.Devices.Tests.Formats;

/// <summary>
/// An energy column written with few digits (SpecUtils/InterSpec write energies as a C++ stream does, 6 significant
/// figures) carries rounding that the fit tolerance of 1 % of a channel did not allow for at fine gains: until
/// 2026-11-24 such a file was refused as "not a smooth calibration". The tolerance is widened by half a unit in the last
/// written digit of the row and of the median row, and nothing more: a real kink is still refused.
/// </summary>
public sealed class CsvEnergyRoundingTests
{
    // 8,192 channels to 40 keV, a common SDD set-up: 4.88 eV per channel, against 0.05 eV of rounding at 10–40 keV.
    private const int FineChannels = 8192;
    private const double FineGainKeV = 40.0 / FineChannels;

    private static string SpecUtilsExport(Func<int, double> lowerEdgeKeV) =>
        "Energy, Data\r\n" + string.Concat(Enumerable.Range(0, FineChannels).Select(c => Invariant($"{(float)lowerEdgeKeV(c):G6},{c % 97}\r\n"))) + "\r\n";

    [Fact]
    public void Csv_SpecUtilsExportAtAFineGain_ReadWithItsCalibration()
    {
        var spectrum = Reads(SpecUtilsExport(c => FineGainKeV * c), "fine.csv");

        Assert.Equal(FineChannels, spectrum.Counts.Length);
        Assert.Equal(FineGainKeV, spectrum.Calibration.GainKeVPerChannel, 8);
        Assert.Equal(FineGainKeV / 2, spectrum.Calibration.OffsetKeV, 5); // lower edges: the first centre is half a channel up
        Assert.Equal("lower edges", spectrum.Metadata["csv.energy_column"]);
    }

    [Fact]
    public void Csv_SpecUtilsExportWithAKink_StillRefused()
    {
        // A fifth of a channel's jump half-way is no rounding: allowed there are 0.01 + 2 × 0.00005 / 0.00488 ≈ 0.03 channels.
        // (The first row, an exact 0 written "0", claims half a keV by its digits: the median row's rounding is what the
        // others are allowed, not the largest.)
        var result = Fails(SpecUtilsExport(c => (FineGainKeV * c) + (c >= FineChannels / 2 ? FineGainKeV / 5 : 0)), "kink.csv", "not a smooth calibration");

        Assert.Contains("plus the energies' rounding as written", result.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("12.3456", 0.00005)]
    [InlineData(" 1.23456e+03 ", 0.005)]
    [InlineData("12", 0.5)]
    [InlineData("-0.5", 0.05)]
    [InlineData("1E-3", 0.0005)]
    [InlineData("2.50", 0.005)]
    public void HalfLastDigit_IsHalfAUnitInTheLastWrittenDigit(string text, double expected) =>
        Assert.Equal(expected, FormatParsing.HalfLastDigit(text), 12);
}
