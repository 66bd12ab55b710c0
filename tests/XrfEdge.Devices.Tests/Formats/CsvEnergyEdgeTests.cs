using System.Globalization;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;
using static XrfEdge.Devices.Tests.Formats.CsvTestFiles;

namespace XrfEdge.Devices.Tests.Formats;

/// <summary>
/// Third review of the CSV reader (2026-11-24): an energy column is read as channel centres unless the file says it holds
/// lower edges, as SpecUtils' <c>Energy, Data</c> export does; read as centres, those were half a channel off.
/// </summary>
public sealed class CsvEnergyEdgeTests
{
    [Fact]
    public void Csv_SpecUtilsEnergyDataHeader_EnergiesAreLowerEdges()
    {
        // SpecUtils' Measurement::write_csv (SpecFile.cpp) writes 'Energy, Data' then 'channel_energies()[i],counts' with
        // CR/LF and a blank line at the end; channel_energies() are the channels' lower edges, and its own reader reads
        // the column back as lower edges (SpecFile_csv.cpp, set_lower_channel_energy). Lower edges 0.04·c keV are
        // centres 0.02 + 0.04·c keV; read as centres the calibration was half a channel (20 eV) low.
        var text = "Energy, Data\r\n" + string.Concat(Enumerable.Range(0, Channels).Select(c => Invariant($"{(float)(GainKeV * c):G6},{Count(c)}\r\n"))) + "\r\n";

        var spectrum = Reads(text, "specutils.csv");

        Assert.Equal(OffsetKeV, spectrum.Calibration.OffsetKeV, 6);
        Assert.Equal(GainKeV, spectrum.Calibration.GainKeVPerChannel, 6);
        Assert.Equal(Enumerable.Range(0, Channels).Select(Count), spectrum.Counts);
        Assert.Equal("lower edges", spectrum.Metadata["csv.energy_column"]);
    }

    [Theory]
    [InlineData("Lower edge (keV),Counts")]
    [InlineData("Energy low (keV),Counts")]
    [InlineData("Bin start (keV),Counts")]
    [InlineData("Channel,E lower (keV),Counts")]
    public void Csv_HeaderNamingLowerEdges_EnergiesAreLowerEdges(string header)
    {
        // A header that says its energies are the channels' lower edges: 0.04·c keV lower edges are 0.02 + 0.04·c centres.
        var withChannel = header.StartsWith("Channel", StringComparison.Ordinal);
        var text = header + "\n" + Rows(c => (withChannel ? Invariant($"{c},") : string.Empty) + Invariant($"{GainKeV * c:0.00},{Count(c)}"));

        var spectrum = Reads(text, "edges.csv");

        Assert.Equal(OffsetKeV, spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(GainKeV, spectrum.Calibration.GainKeVPerChannel, 9);
    }

    [Fact]
    public void Csv_QuadraticLowerEdges_FitAsCentres()
    {
        // Lower edges of a quadratic E(x) = 0.01 + 0.04·x + 2e-5·x² keV (x the channel centre) are E(c − ½); the fit must
        // return E itself, whose quadratic term is large enough (2e-5·63² ≈ 0.08 keV, two channels) that no line fits.
        static double E(double x) => 0.01 + (0.04 * x) + (2e-5 * x * x);
        var text = "Energy, Data\n" + Rows(c => Invariant($"{E(c - 0.5):R},{Count(c)}"));

        var calibration = Reads(text, "quadratic.csv").Calibration;

        Assert.Equal(0.01, calibration.OffsetKeV, 9);
        Assert.Equal(0.04, calibration.GainKeVPerChannel, 9);
        Assert.Equal(2e-5, calibration.QuadraticKeVPerChannel2, 12);
    }

    [Theory]
    [InlineData("Energy (keV),Counts")]
    [InlineData("energy_kev,counts")]
    [InlineData("Energy,Counts")]
    public void Csv_OtherEnergyHeaders_StillChannelCentres(string header)
    {
        // Only SpecUtils' own header, or one that says so, makes the energies lower edges; the rest stay centres.
        var spectrum = Reads(header + "\n" + Rows(c => Invariant($"{Centre(c)},{Count(c)}")), "centres.csv");

        Assert.Equal(OffsetKeV, spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal("centres", spectrum.Metadata["csv.energy_column"]);
    }
}
