using XrfEdge.Devices.Formats;
using XrfEdge.Devices.Tests.Support;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Devices.Tests.Formats;

public sealed class RealSpectraTests
{
    // Header values of every NIST file (../shared/spectra/README.md and the files' #XPERCHAN / #OFFSET lines).
    private const double NistOffsetKeV = -0.9553045;
    private const double NistGainKeVPerChannel = 0.009999;

    /// <summary>File stem and the strongest line expected above 1 keV (../shared/spectra/README.md: what each standard holds).</summary>
    public static TheoryData<string, string?> Files => new()
    {
        { "Fe_50kv_50_ma_Rh_vac_D1", "Fe-KL3" },
        { "Cr_50kv_50_ma_Rh_vac_D1", "Cr-KL3" },
        { "Ni_50kv_50_ma_Rh_vac_D1", "Ni-KL3" },
        { "Cu_50kv_50_ma_Rh_vac_D1", "Cu-KL3" },
        { "Ti_50kv_50_ma_Rh_vac_D1", "Ti-KL3" },
        { "Zr_50kv_50_ma_Rh_vac_D1", "Zr-KL3" },
        { "Sn_50kv_50_ma_Rh_vac_D1", "Sn-L3M5" },
        { "Steel_50kv_50_ma_Rh_vac_D1", "Fe-KL3" },
        // The PMMA blank has no element line of its own: only parsing is checked.
        { "Acrylic_50kv_50_ma_Rh_vac_D1", null },
    };

    [SharedSpectraTheory]
    [MemberData(nameof(Files))]
    public void ReadAll_NistMsa_ParsesWithTheHeaderCalibration(string stem, string? strongestLine)
    {
        var path = Path.Combine(TestFiles.NistFolder!, stem + ".msa");

        var result = Assert.Single(SpectrumFileReader.ReadAll(path));

        Assert.True(result.IsSuccess, result.Error);
        var spectrum = result.Spectrum!.Spectrum;
        Assert.Equal(stem, spectrum.Id);
        Assert.Equal(4096, spectrum.Counts.Length);
        Assert.Equal(NistOffsetKeV, spectrum.Calibration.OffsetKeV, 12);
        Assert.Equal(NistGainKeVPerChannel, spectrum.Calibration.GainKeVPerChannel, 12);
        Assert.Equal(0, spectrum.Calibration.QuadraticKeVPerChannel2);
        // Every file was acquired for about 120 s live time (README: "about 120 s live time").
        Assert.InRange(spectrum.LiveTime!.Value.TotalSeconds, 119, 121);
        Assert.True(spectrum.RealTime > spectrum.LiveTime);
        Assert.Equal("Msa", spectrum.Metadata["format"]);

        if (strongestLine is not null)
        {
            Assert.True(LineCatalog.Default.TryGetLine(strongestLine, out var line));
            var peakEnergy = SpectrumPeaks.StrongestEnergyKeV(spectrum, 1.0);
            // ±60 eV: a little under half the detector's 144 eV FWHM at Mn Kα (file header ##MNFWHM).
            Assert.InRange(peakEnergy, line.EnergyKeV - 0.06, line.EnergyKeV + 0.06);
        }
    }

    [SharedSpectraTheory]
    [MemberData(nameof(Files))]
    public void Rebin_NistMsa_ConservesCountsTo1e9(string stem, string? strongestLine)
    {
        _ = strongestLine;
        var spectrum = SpectrumFileReader.ReadAll(Path.Combine(TestFiles.NistFolder!, stem + ".msa")).Single().Spectrum!.Spectrum;

        var result = Rebinner.Rebin(spectrum);

        Assert.Equal(spectrum.TotalCounts, result.Counts.Sum() + result.CountsOutsideRange, 1e-9 * spectrum.TotalCounts);
        // The scale runs from −0.96 to +40 keV, so counts fall outside 0–30 keV at both ends.
        Assert.True(result.CountsOutsideRange > 0);
    }

    [SharedSpectraFact]
    public void ReadAll_NistFe_ClampsTheZeroPeakNegativesAndSaysSo()
    {
        // The Fe file holds −2.0 in one channel near 0.3 keV (Bruker's zero-peak subtraction): clamped and recorded.
        var spectrum = SpectrumFileReader.ReadAll(Path.Combine(TestFiles.NistFolder!, "Fe_50kv_50_ma_Rh_vac_D1.msa")).Single().Spectrum!.Spectrum;

        Assert.All(spectrum.Counts, c => Assert.True(c >= 0));
        Assert.Equal("1", spectrum.Metadata["clamped_negative_channels"]);
        Assert.Equal("-2", spectrum.Metadata["clamped_negative_sum"]);
    }

    [SharedSpectraFact]
    public void ReadAll_NistZrWithRejectNegatives_FailsNamingTheLine()
    {
        // Line 57 of the Zr file holds "-208.0" for channel 124 (0.285 keV).
        var options = new SpectrumReadOptions { NegativeCounts = NegativeCountHandling.Reject };

        var result = Assert.Single(SpectrumFileReader.ReadAll(Path.Combine(TestFiles.NistFolder!, "Zr_50kv_50_ma_Rh_vac_D1.msa"), options));

        Assert.False(result.IsSuccess);
        Assert.EndsWith("Zr_50kv_50_ma_Rh_vac_D1.msa line 57: count of channel 124 is -208.0; counts must be non-negative integers", result.Error, StringComparison.Ordinal);
    }
}
