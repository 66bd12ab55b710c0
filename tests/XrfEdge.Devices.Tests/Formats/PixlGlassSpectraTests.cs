using XrfEdge.Devices.Formats;
using XrfEdge.Devices.Tests.Support;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Devices.Tests.Formats;

/// <summary>
/// The PIXL breadboard bulk sums in validation/spectra/pixl-bb-rh28kv-glasses/ (pixlise/piquant test data): EMSA files
/// with CRLF line ends, <c>#XUNITS : eV</c> and counts written as "1.07642e+006".
/// </summary>
public sealed class PixlGlassSpectraTests
{
    /// <summary>File stem, #XPERCHAN and #OFFSET (eV), #LIVETIME (s), channel of the first count in exponent form and its value (file headers and data).</summary>
    public static TheoryData<string, double, double, double, int, long> Files => new()
    {
        { "Calibration_box_BHVO-2G_28kV_230uA_03_28_2019_bulk_sum", 10.0449, -15.3063, 13973.4, 364, 1_076_420 },
        { "Calibration_box_BCR-2G_28kV_230uA_03_28_2019_bulk_sum", 10.0493, -17.1133, 13958, 173, 1_084_890 },
        { "Calibration_box_BIR-1G_28kV_230uA_03_28_2019_bulk_sum", 10.0491, -16.66, 13977.9, 363, 1_052_830 },
    };

    /// <summary>The three file stems.</summary>
    public static TheoryData<string> Stems => new()
    {
        "Calibration_box_BHVO-2G_28kV_230uA_03_28_2019_bulk_sum",
        "Calibration_box_BCR-2G_28kV_230uA_03_28_2019_bulk_sum",
        "Calibration_box_BIR-1G_28kV_230uA_03_28_2019_bulk_sum",
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void ReadAll_PixlGlassMsa_ReadsEvCalibrationAndExponentCounts(
        string stem, double eVPerChannel, double offsetEv, double liveSeconds, int exponentChannel, long exponentCount)
    {
        var path = Path.Combine(TestFiles.PixlGlassesFolder, stem + ".msa");

        var result = Assert.Single(SpectrumFileReader.ReadAll(path));

        Assert.True(result.IsSuccess, result.Error);
        var spectrum = result.Spectrum!.Spectrum;
        Assert.Equal(stem, spectrum.Id);
        Assert.Equal(4096, spectrum.Counts.Length);
        // #XUNITS is eV: the reader divides by 1000.
        Assert.Equal(eVPerChannel / 1000, spectrum.Calibration.GainKeVPerChannel, 12);
        Assert.Equal(offsetEv / 1000, spectrum.Calibration.OffsetKeV, 12);
        Assert.Equal(liveSeconds, spectrum.LiveTime!.Value.TotalSeconds, 3);
        Assert.Equal(exponentCount, spectrum.Counts[exponentChannel]);
    }

    [Theory]
    [MemberData(nameof(Stems))]
    public void ReadAll_PixlGlassMsa_PutsTheFeKaPeakAt6404eV(string stem)
    {
        var spectrum = SpectrumFileReader.ReadAll(Path.Combine(TestFiles.PixlGlassesFolder, stem + ".msa")).Single().Spectrum!.Spectrum;
        Assert.True(LineCatalog.Default.TryGetLine("Fe-KL3", out var feKa));

        // The glasses hold 7.9-9.7 wt% Fe (PIQUANT standards file): the strongest channel between 5.5 and 7.5 keV is Fe Kα.
        var peakKeV = SpectrumPeaks.StrongestEnergyKeV(spectrum, 5.5, 7.5);

        // ±20 eV: two channels of 10 eV, well under the 130 eV FWHM the configuration file gives (##DETRES).
        Assert.InRange(peakKeV, feKa.EnergyKeV - 0.02, feKa.EnergyKeV + 0.02);
    }

    [Theory]
    [MemberData(nameof(Stems))]
    public void Rebin_PixlGlassMsa_ConservesCountsTo1e9(string stem)
    {
        var spectrum = SpectrumFileReader.ReadAll(Path.Combine(TestFiles.PixlGlassesFolder, stem + ".msa")).Single().Spectrum!.Spectrum;

        var result = Rebinner.Rebin(spectrum);

        Assert.Equal(spectrum.TotalCounts, result.Counts.Sum() + result.CountsOutsideRange, 1e-9 * spectrum.TotalCounts);
        // 4096 × 10.05 eV reaches 41 keV, past the model's 30 keV: some counts fall outside.
        Assert.True(result.CountsOutsideRange > 0);
    }
}
