using XrfEdge.Devices.Formats;
using XrfEdge.Devices.Tests.Support;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Devices.Tests.Formats;

/// <summary>
/// The Horiba XGT-7200 spectra of certified reference materials in validation/spectra/xgt7200-rh50kv-geo-crms/
/// (aaroncelestian/XRFLab): Oxford Instruments EMSA files with <c>#DATATYPE : XY</c> ("energy, count." per line),
/// 4096 channels of 10 eV from −0.40 keV.
/// </summary>
public sealed class XgtCrmSpectraTests
{
    /// <summary>
    /// File stem, size in bytes (the set's README: the copy was checked against the source's length), #LIVETIME (s)
    /// and the count on the file's "6.40000, …" data line (channel 680).
    /// </summary>
    public static TheoryData<string, long, double, long> Files => new()
    {
        { "NIST_SRM_2586_03", 58_517, 30, 17_009 },
        { "NIST_SRM_2587_01", 58_553, 30, 10_269 },
        { "OREAS_460b_01", 60_173, 30, 17_114 },
        { "OREAS_462_01", 57_589, 30, 34_717 },
        { "OREAS_464_01", 59_026, 30, 35_187 },
        { "OREAS_466_01", 59_680, 30, 17_420 },
        { "MBH_REE_MID_22_P_01", 61_300, 60, 1_293 },
    };

    /// <summary>The seven file stems.</summary>
    public static TheoryData<string> Stems => new()
    {
        "NIST_SRM_2586_03", "NIST_SRM_2587_01", "OREAS_460b_01", "OREAS_462_01", "OREAS_464_01", "OREAS_466_01", "MBH_REE_MID_22_P_01",
    };

    /// <summary>The three iron ores (Fe 15.5–35.6 wt %, OREAS certificates as the README quotes them).</summary>
    public static TheoryData<string> IronRich => new() { "OREAS_460b_01", "OREAS_462_01", "OREAS_464_01" };

    [Theory]
    [MemberData(nameof(Files))]
    public void ReadAll_XgtMsa_ReadsXyDataWithItsCalibration(string stem, long bytes, double liveSeconds, long countAt6400eV)
    {
        var path = Path.Combine(TestFiles.XgtCrmFolder, stem + ".msa");

        var result = Assert.Single(SpectrumFileReader.ReadAll(path));

        // The bytes are the source's (.gitattributes keeps them on checkout); a changed length means a changed file.
        Assert.Equal(bytes, new FileInfo(path).Length);
        Assert.True(result.IsSuccess, result.Error);
        var spectrum = result.Spectrum!.Spectrum;
        Assert.Equal(stem, spectrum.Id);
        Assert.Equal(4096, spectrum.Counts.Length);
        Assert.Equal(0.01, spectrum.Calibration.GainKeVPerChannel, 12);
        Assert.Equal(-0.4, spectrum.Calibration.OffsetKeV, 12);
        Assert.Equal(liveSeconds, spectrum.LiveTime!.Value.TotalSeconds, 6);
        Assert.Equal(40.55, spectrum.Calibration.EnergyKeV(4095), 9);
        // XY data ("energy, count." per line): the count column, not the energy, lands in the channel.
        Assert.Equal(6.40, spectrum.Calibration.EnergyKeV(680), 9);
        Assert.Equal(countAt6400eV, spectrum.Counts[680]);
    }

    [Theory]
    [MemberData(nameof(IronRich))]
    public void ReadAll_XgtIronOre_PutsTheFeKaPeakAt6404eV(string stem)
    {
        var spectrum = SpectrumFileReader.ReadAll(Path.Combine(TestFiles.XgtCrmFolder, stem + ".msa")).Single().Spectrum!.Spectrum;
        Assert.True(LineCatalog.Default.TryGetLine("Fe-KL3", out var feKa));

        var peakKeV = SpectrumPeaks.StrongestEnergyKeV(spectrum, 5.5, 7.5);

        // ±30 eV: three 10-eV channels, far under an SDD's ~140 eV FWHM at Fe Kα.
        Assert.InRange(peakKeV, feKa.EnergyKeV - 0.03, feKa.EnergyKeV + 0.03);
    }

    [Theory]
    [MemberData(nameof(Stems))]
    public void Rebin_XgtMsa_ConservesCountsAndDropsTheNegativeAndAbove30KeVChannels(string stem)
    {
        var spectrum = SpectrumFileReader.ReadAll(Path.Combine(TestFiles.XgtCrmFolder, stem + ".msa")).Single().Spectrum!.Spectrum;

        var result = Rebinner.Rebin(spectrum);

        Assert.Equal(spectrum.TotalCounts, result.Counts.Sum() + result.CountsOutsideRange, 1e-9 * spectrum.TotalCounts);
        Assert.True(result.CountsOutsideRange > 0);
    }
}
