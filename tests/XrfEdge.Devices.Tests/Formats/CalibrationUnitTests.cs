using System.Globalization;
using System.Text;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Tests.Formats;

/// <summary>
/// Third review of the readers (2026-11-24): the units an EMSA/MAS or Amptek file states beside a number (a keyword's
/// <c>-eV</c> suffix, a value's trailing unit, <c>#XUNITS : Channel</c>, an Amptek <c>LABEL - MeV</c>). Each must give the
/// energy scale the file means or one error naming the file and line, never a scale silently off by a factor of 1000.
/// </summary>
public sealed class CalibrationUnitTests
{
    // 64 channels, the fewest accepted (SpectrumJsonl.MinChannels).
    private const int Channels = 64;

    // 0.04 keV/channel: 64 channels span 0–2.56 keV, a plausible EDS gain inside EnergyCalibration.Validate's limits.
    private static readonly SpectrumReadOptions Fallback = new() { FallbackCalibration = new EnergyCalibration(0, 0.04) };

    private static long Count(int channel) => channel == Channels - 1 ? 1234 : channel % 13;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Msa(string units) =>
        "#FORMAT      : EMSA/MAS Spectral Data File\n#VERSION     : 1.0\n#NPOINTS     : 64\n#DATATYPE    : Y\n" + units
        + "#SPECTRUM    :\n" + string.Join(", ", Enumerable.Range(0, Channels).Select(c => Count(c).ToString(CultureInfo.InvariantCulture))) + "\n#ENDOFDATA   :\n";

    private static string Mca(string calibration) =>
        "<<PMCA SPECTRUM>>\nTAG - live_data\nGAIN - 0\n" + calibration + "<<DATA>>\n"
        + string.Concat(Enumerable.Range(0, 256).Select(c => Invariant($"{c % 7}\n"))) + "<<END>>\n";

    private static SpectrumReadResult ReadOne(string text, string source, SpectrumReadOptions? options = null) =>
        Assert.Single(SpectrumFileReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), source, options ?? Fallback));

    private static SpectrumReadResult Fails(string text, string source, string problem, SpectrumReadOptions? options = null)
    {
        var result = ReadOne(text, source, options);
        Assert.False(result.IsSuccess, $"expected an error containing \"{problem}\", read a spectrum");
        Assert.Contains(problem, result.Problem, StringComparison.Ordinal);
        Assert.StartsWith(source, result.Error, StringComparison.Ordinal);
        return result;
    }

    private static EnergyCalibration Reads(string text, string source, SpectrumReadOptions? options = null)
    {
        var result = ReadOne(text, source, options);
        Assert.True(result.IsSuccess, result.Error);
        return result.Spectrum!.Spectrum.Calibration;
    }

    [Fact]
    public void Msa_OffsetWithItsOwnEvSuffix_ReadInEv()
    {
        // "#OFFSET -eV: -20" in a keV file is −0.02 keV; the suffix was dropped and −20 keV passed as a calibration.
        var calibration = Reads(Msa("#XUNITS      : keV\n#XPERCHAN    : 0.04\n#OFFSET   -eV: -20\n"), "suffix.msa");

        Assert.Equal(-0.02, calibration.OffsetKeV, 12);
        Assert.Equal(0.04, calibration.GainKeVPerChannel, 12);
    }

    [Fact]
    public void Msa_KeVSuffixesInAnEvFile_ReadInKeV()
    {
        // XUNITS eV (the standard's usual) with values a writer marked "-keV": 0.04 keV/channel, not 0.04 eV/channel.
        var calibration = Reads(Msa("#XUNITS      : eV\n#XPERCHAN -keV: 0.04\n#OFFSET   -keV: -0.2\n"), "kev-suffix.msa");

        Assert.Equal(-0.2, calibration.OffsetKeV, 12);
        Assert.Equal(0.04, calibration.GainKeVPerChannel, 12);
    }

    [Fact]
    public void Msa_ValueFollowedByItsUnit_ReadInThatUnit()
    {
        // "#XPERCHAN : 40 eV" in a keV file: the value's own unit; it was refused as "not a number".
        var calibration = Reads(Msa("#XUNITS      : keV\n#XPERCHAN    : 40 eV\n#OFFSET      : 0.02 keV\n"), "inline.msa");

        Assert.Equal(0.04, calibration.GainKeVPerChannel, 12);
        Assert.Equal(0.02, calibration.OffsetKeV, 12);
    }

    [Theory]
    [InlineData("#XPERCHAN -eV/ch: 40\n")]
    [InlineData("#XPERCHAN    : 0.04 keV/channel\n")]
    [InlineData("#XUNITS      : eV\n#XPERCHAN    : 40\n")]
    public void Msa_PerChannelUnitForms_Read(string units) =>
        Assert.Equal(0.04, Reads(Msa(units + "#OFFSET      : 0\n"), "per-channel.msa").GainKeVPerChannel, 12);

    [Theory]
    [InlineData("#XUNITS      : keV\n#XPERCHAN  -mm: 0.04\n#OFFSET      : 0\n", 6, "#XPERCHAN unit \"mm\" is not an energy unit XrfEdge reads (eV or keV)")]
    [InlineData("#XUNITS      : keV\n#XPERCHAN    : 0.04\n#OFFSET   -eV: 0.02 keV\n", 7, "#OFFSET states two units, \"eV\" and \"keV\"")]
    [InlineData("#XUNITS      : keV\n#XPERCHAN    : 0.04 per channel\n#OFFSET      : 0\n", 6, "#XPERCHAN \"0.04 per channel\" is not a number")]
    public void Msa_CalibrationUnitItCannotUse_RefusedNamingTheLine(string units, int line, string problem)
    {
        // Msa() puts the units block from line 5 on (#XUNITS), so #XPERCHAN is line 6 and #OFFSET line 7.
        var result = Fails(Msa(units), "units.msa", problem);

        Assert.Equal(line, result.LineNumber);
    }

    [Theory]
    [InlineData("#LIVETIME -ms: 29500\n", 29.5)]
    [InlineData("#LIVETIME  -s: 29.5\n", 29.5)]
    [InlineData("#LIVETIME    : 29.5\n", 29.5)]
    public void Msa_LiveTimeUnitSuffix_Honoured(string liveTime, double seconds)
    {
        var result = ReadOne(Msa("#XUNITS      : keV\n#XPERCHAN    : 0.04\n#OFFSET      : 0\n" + liveTime), "time.msa");

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), result.Spectrum!.Spectrum.LiveTime);
    }

    [Theory]
    [InlineData("#LIVETIME -seconds: 29.5\n", 29.5)]
    [InlineData("#LIVETIME -second: 29.5\n", 29.5)]
    [InlineData("#LIVETIME -Sec: 29.5\n", 29.5)]
    [InlineData("#LIVETIME -secs: 29.5\n", 29.5)]
    [InlineData("#LIVETIME -S: 29.5\n", 29.5)]
    [InlineData("#LIVETIME -msec: 29500\n", 29.5)]
    [InlineData("#LIVETIME -msecs: 29500\n", 29.5)]
    [InlineData("#LIVETIME -millisecond: 29500\n", 29.5)]
    [InlineData("#LIVETIME -Milliseconds: 29500\n", 29.5)]
    [InlineData("#LIVETIME    : 29500 msec\n", 29.5)]
    [InlineData("#LIVETIME    : 29.5 seconds\n", 29.5)]
    public void Msa_LiveTimeCommonUnitSpellings_Read(string liveTime, double seconds)
    {
        // Writers spell the EMSA '-s' out ('-seconds', '-sec') and milliseconds as '-msec'; only s/sec/secs/ms were read and
        // the others refused as 'not one XrfEdge reads'.
        var result = ReadOne(Msa("#XUNITS      : keV\n#XPERCHAN    : 0.04\n#OFFSET      : 0\n" + liveTime + "#REALTIME -seconds: 30\n"), "time.msa");

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), result.Spectrum!.Spectrum.LiveTime);
        Assert.Equal(TimeSpan.FromSeconds(30), result.Spectrum.Spectrum.RealTime);
    }

    [Theory]
    [InlineData("-keV", "keV")]
    [InlineData("-m", "m")]
    [InlineData("-counts", "counts")]
    [InlineData("-secondsx", "secondsx")]
    public void Msa_LiveTimeInANonTimeUnit_RefusedNamingTheLine(string suffix, string unit)
    {
        var result = Fails(Msa("#XUNITS      : keV\n#XPERCHAN    : 0.04\n#OFFSET      : 0\n#LIVETIME " + suffix + ": 2\n"), "unit.msa", "#LIVETIME unit \"" + unit + "\" is not one XrfEdge reads (s or ms)");

        Assert.StartsWith("unit.msa line 8:", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Msa_LiveTimeInAUnitItCannotUse_Refused() =>
        Fails(Msa("#XUNITS      : keV\n#XPERCHAN    : 0.04\n#OFFSET      : 0\n#LIVETIME -min: 2\n"), "minutes.msa", "#LIVETIME unit \"min\" is not one XrfEdge reads (s or ms)");

    [Fact]
    public void Msa_XunitsChannel_IsUncalibratedAndTakesTheFallback()
    {
        // A channel axis (XPERCHAN 1, OFFSET 0 in channels) is no energy calibration, as LABEL - Channel in .mca; it was refused outright.
        var text = Msa("#XUNITS      : Channel\n#XPERCHAN    : 1\n#OFFSET      : 0\n");

        Fails(text, "channels.msa", "the file has no energy calibration", SpectrumReadOptions.Default);
        Assert.Equal(new EnergyCalibration(0, 0.04), Reads(text, "channels.msa"));
    }

    [Fact]
    public void Msa_NistBrukerHeader_StillKeV()
    {
        // The /work/shared/spectra header: "#XUNITS : keV", "#LIVETIME  -s:", "##MNFWHM -keV:" (a user keyword, not used).
        var calibration = Reads(Msa("#XUNITS      : keV\n#XPERCHAN    : 0.0099990\n#OFFSET      : -0.9553045\n#CHOFFSET    : 96\n#LIVETIME  -s: 120.005\n##MNFWHM -keV: 0.1439205\n"), "nist.msa");

        Assert.Equal(0.009999, calibration.GainKeVPerChannel, 12);
        Assert.Equal(-0.9553045, calibration.OffsetKeV, 12);
    }

    [Fact]
    public void Mca_CalibrationLabelMeV_ReadInMeV()
    {
        // "MeV" contains "eV": the points were read as eV, a factor 10^6 off (then refused as a gain below the minimum).
        var calibration = Reads(Mca("<<CALIBRATION>>\nLABEL - MeV\n0 0.00002\n255 0.01022\n"), "mev.mca");

        Assert.Equal(0.02, calibration.OffsetKeV, 9);
        Assert.Equal(0.04, calibration.GainKeVPerChannel, 9);
    }

    [Fact]
    public void Mca_CalibrationLabelAfterItsPoints_AppliedToThem()
    {
        // The label scaled only the points after it: eV points above it were read as keV.
        var calibration = Reads(Mca("<<CALIBRATION>>\n0 20\n255 10220\nLABEL - eV\n"), "late-label.mca");

        Assert.Equal(0.04, calibration.GainKeVPerChannel, 9);
    }

    [Fact]
    public void Mca_CalibrationLabelGivenTwice_Rejected()
    {
        var result = Fails(Mca("<<CALIBRATION>>\nLABEL - eV\n0 20\nLABEL - keV\n255 10.22\n"), "two-labels.mca", "LABEL is given twice (lines 5 and 7)");

        Assert.Equal(7, result.LineNumber);
    }

    [Theory]
    [InlineData("LABEL - \"keV\"", 1.0)]
    [InlineData("LABEL - keV;", 1.0)]
    [InlineData("LABEL - Energy=eV", 0.001)]
    [InlineData("LABEL - keV.", 1.0)]
    [InlineData("LABEL - Energy (keV)", 1.0)]
    [InlineData("LABEL - KEV", 1.0)]
    public void Mca_CalibrationLabelUnitBesidePunctuation_Read(string label, double keVPerUnit)
    {
        // A whole word is a run of letters: the label splitter knew only some punctuation, so a quoted "keV" or "keV;" (read
        // by the old substring match) became "not an energy unit". Points 0.02 and 10.22 keV at channels 0 and 255.
        var calibration = Reads(Mca(Invariant($"<<CALIBRATION>>\n{label}\n0 {0.02 / keVPerUnit}\n255 {10.22 / keVPerUnit}\n")), "label.mca");

        Assert.Equal(0.02, calibration.OffsetKeV, 9);
        Assert.Equal(0.04, calibration.GainKeVPerChannel, 9);
    }

    [Fact]
    public void Spe_McaCalInMeV_ReadInMeV()
    {
        // CSV headers and .mca labels take MeV since 2026-11-24; $MCA_CAL: refused it ('unit "MeV" is not keV or eV'). Gamma
        // software writes MeV. 0.02 keV + 0.04 keV/channel.
        var text = "$SPEC_ID:\nx\n$DATA:\n0 63\n" + string.Concat(Enumerable.Range(0, Channels).Select(c => Invariant($"{c % 5}\n")))
            + "$MCA_CAL:\n2\n0.00002 0.00004 MeV\n";

        var calibration = Reads(text, "mev.spe");

        Assert.Equal(0.02, calibration.OffsetKeV, 9);
        Assert.Equal(0.04, calibration.GainKeVPerChannel, 9);
    }

    [Fact]
    public void Msa_XunitsChannelButXperchanStatesAnEnergyUnit_Rejected()
    {
        // The documented order puts a value's own unit before #XUNITS, yet "#XUNITS : Channel" dropped "#XPERCHAN -eV: 40"
        // unread and took the fallback. An axis in channels with a width in eV contradicts itself: an error naming the line.
        var result = Fails(Msa("#XUNITS      : Channel\n#XPERCHAN -eV: 40\n#OFFSET      : 0\n"), "channel-ev.msa", "#XUNITS says Channel but #XPERCHAN states \"eV\"");

        Assert.Equal(6, result.LineNumber);
    }

    [Fact]
    public void Msa_SuffixAndTrailingUnitThatAgree_Read()
    {
        // "#XPERCHAN -eV: 40 eV/ch" states eV twice, once per channel; only a disagreement ("-eV" with "keV") is an error.
        Assert.Equal(0.04, Reads(Msa("#XPERCHAN -eV: 40 eV/ch\n#OFFSET      : 0\n"), "twice.msa").GainKeVPerChannel, 12);
    }

    [Theory]
    [InlineData("#XUNITS      : keV\n#XPERCHAN    : 0.04\n#OFFSET      : 0.02\n")]
    [InlineData("#XUNITS      : KEV\n#XPERCHAN    : 0.04\n#OFFSET      : 0.02\n")]
    [InlineData("#XUNITS      : ev\n#XPERCHAN    : 40.0\n#OFFSET      : 20.0\n")]
    [InlineData("#XUNITS      : keV\n#XPERCHAN -eV: 40.0\n#OFFSET      : 0.02\n")]
    [InlineData("#XPERCHAN -eV: 40.0\n#OFFSET   -eV: 20\n")]
    [InlineData("#XUNITS      : Energy (keV)\n#XPERCHAN    : 0.04\n#OFFSET      : 0.02\n")]
    public void Msa_WriterUnitVariants_ReadAlike(string units)
    {
        // Bruker/Oxford (keV, XPERCHAN 0.01-style), DTSA-II and EDAX (eV), suffixed writers (-eV), upper and lower case: all
        // 0.02 keV + 0.04 keV/channel.
        var calibration = Reads(Msa(units), "variant.msa");

        Assert.Equal(0.02, calibration.OffsetKeV, 12);
        Assert.Equal(0.04, calibration.GainKeVPerChannel, 12);
    }
}
