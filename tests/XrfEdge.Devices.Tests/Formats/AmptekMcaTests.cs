using System.Text;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Devices.Tests.Formats;

public sealed class AmptekMcaTests
{
    private static RawSpectrum ReadFixture() =>
        SpectrumFileReader.ReadAll(TestFiles.Fixture("amptek-fe-256.mca")).Single().Spectrum!.Spectrum;

    private static RawSpectrum ReadText(string text, SpectrumReadOptions? options = null)
    {
        var result = AmptekMcaReader.Read(new StringReader(text), "test.mca", options);
        Assert.True(result.IsSuccess, result.Error);
        return result.Spectrum!.Spectrum;
    }

    private static string Minimal(string calibration, int channels = 256) =>
        "<<PMCA SPECTRUM>>\nTAG - live_data\n" + calibration + "<<DATA>>\n"
        + string.Join('\n', Enumerable.Range(0, channels).Select(c => (c % 11).ToString(System.Globalization.CultureInfo.InvariantCulture)))
        + "\n<<END>>\n";

    [Fact]
    public void Read_Fixture_HeaderCalibrationTimesAndSections()
    {
        var spectrum = ReadFixture();

        // make_fixtures.py: 256 channels, points (0, 0 keV) and (255, 10.2 keV) → 0.04 keV/channel.
        Assert.Equal("amptek-fe-256", spectrum.Id);
        Assert.Equal(256, spectrum.Counts.Length);
        Assert.Equal(0, spectrum.Calibration.OffsetKeV, 12);
        Assert.Equal(0.04, spectrum.Calibration.GainKeVPerChannel, 12);
        Assert.Equal(TimeSpan.FromSeconds(29.5), spectrum.LiveTime);
        Assert.Equal(TimeSpan.FromSeconds(30), spectrum.RealTime);
        Assert.Equal("live_data", spectrum.Metadata["mca.TAG"]);
        Assert.Equal("2666", spectrum.Metadata["mca.SERIAL_NUMBER"]);
        Assert.Equal("256", spectrum.Metadata["dp5.MCAC"]);
        Assert.Equal("25.600", spectrum.Metadata["dp5.TPEA"]);
        // The status section is ISO-8859-1: "33°C" must survive decoding.
        Assert.Equal("33°C", spectrum.Metadata["status.Board Temp"]);
        // Peak height 1000 + background 5 at channel 160 = 6.4 keV, next to Fe KL3 6.4039 keV.
        Assert.Equal(1005, spectrum.Counts[160]);
        Assert.Equal(6.4, spectrum.Calibration.EnergyKeV(160), 12);
    }

    [Fact]
    public void Read_LabelInEv_ConvertsToKeV()
    {
        // The Amptek sample file's calibration: channel 1 = 0 eV, channel 322 = 13950 eV.
        var spectrum = ReadText(Minimal("<<CALIBRATION>>\nLABEL - eV\n1 0.000000\n322 13950.0\n"));

        Assert.Equal(13.95 / 321, spectrum.Calibration.GainKeVPerChannel, 12);
        Assert.Equal(-13.95 / 321, spectrum.Calibration.OffsetKeV, 12);
    }

    [Fact]
    public void Read_ThreePointsOnAParabola_FitsTheQuadratic()
    {
        // E = 0.1 + 0.03·c + 2e-6·c²: (0, 0.1), (100, 3.12), (255, 7.88005).
        var spectrum = ReadText(Minimal("<<CALIBRATION>>\nLABEL - keV\n0 0.1\n100 3.12\n255 7.88005\n"));

        Assert.Equal(0.1, spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(0.03, spectrum.Calibration.GainKeVPerChannel, 9);
        Assert.Equal(2e-6, spectrum.Calibration.QuadraticKeVPerChannel2, 12);
    }

    [Fact]
    public void Read_ManyPointsOnALine_FitsTheLineWithoutQuadraticTerm()
    {
        // Four points of E = −0.02 + 0.04·c.
        var spectrum = ReadText(Minimal("<<CALIBRATION>>\nLABEL - keV\n10 0.38\n60 2.38\n160 6.38\n250 9.98\n"));

        Assert.Equal(-0.02, spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(0.04, spectrum.Calibration.GainKeVPerChannel, 9);
        Assert.Equal(0, spectrum.Calibration.QuadraticKeVPerChannel2);
    }

    [Fact]
    public void Read_LabelChannel_MeansUncalibrated()
    {
        var result = AmptekMcaReader.Read(new StringReader(Minimal("<<CALIBRATION>>\nLABEL - Channel\n0 0\n255 255\n")), "c.mca");

        Assert.False(result.IsSuccess);
        Assert.Contains("no energy calibration", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OnePointOnly_FailsAtTheCalibrationSection()
    {
        var result = AmptekMcaReader.Read(new StringReader(Minimal("<<CALIBRATION>>\nLABEL - keV\n0 0.1\n")), "one.mca");

        Assert.False(result.IsSuccess);
        Assert.Equal(3, result.LineNumber);
        Assert.Contains("1 calibration point(s); at least 2 are needed", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NoCalibrationWithFallback_UsesTheFallback()
    {
        // --offset-kev −0.01 --gain-kev-per-channel 0.04, as a user would give for an uncalibrated DP5 file.
        var options = new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(-0.01, 0.04) };

        var result = Assert.Single(SpectrumFileReader.ReadAll(TestFiles.Malformed("no-calibration.mca"), options));

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(new EnergyCalibration(-0.01, 0.04), result.Spectrum!.Spectrum.Calibration);
    }

    [Fact]
    public void Read_FileCalibrationAndFallback_FileWins()
    {
        var options = new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(1, 1) };

        var spectrum = SpectrumFileReader.ReadAll(TestFiles.Fixture("amptek-fe-256.mca"), options).Single().Spectrum!.Spectrum;

        Assert.Equal(0.04, spectrum.Calibration.GainKeVPerChannel, 12);
    }

    [Fact]
    public void Read_DppConfigurationSectionName_Accepted()
    {
        // Older documents call the section <<DPP CONFIGURATION>>; both names must work (reference note §6 item 8).
        var spectrum = ReadText(Minimal("<<CALIBRATION>>\nLABEL - keV\n0 0\n255 10.2\n") + "<<DPP CONFIGURATION>>\nMCAC=256;  channels\n<<DPP CONFIGURATION END>>\n");

        Assert.Equal("256", spectrum.Metadata["dp5.MCAC"]);
    }

    [Fact]
    public void Write_ThenRead_RoundTripsCountsCalibrationTimesAndSections()
    {
        var original = ReadFixture();
        using var text = new StringWriter();

        AmptekMcaWriter.Write(text, original);
        var again = ReadText(text.ToString());

        Assert.Equal(original.Counts, again.Counts);
        Assert.Equal(original.Calibration.OffsetKeV, again.Calibration.OffsetKeV, 12);
        Assert.Equal(original.Calibration.GainKeVPerChannel, again.Calibration.GainKeVPerChannel, 12);
        Assert.Equal(original.LiveTime, again.LiveTime);
        Assert.Equal(original.RealTime, again.RealTime);
        Assert.Equal("256", again.Metadata["dp5.MCAC"]);
        Assert.Equal("25.600", again.Metadata["dp5.TPEA"]);
        Assert.Equal("52894", again.Metadata["status.Fast Count"]);
        Assert.Equal("0", again.Metadata["mca.GAIN"]);
    }

    [Fact]
    public void Write_QuadraticCalibration_SurvivesTheRoundTrip()
    {
        // q = 1e-7 keV/ch² over 4096 channels: 1.7 keV of curvature at the top, well inside the monotonic range.
        var spectrum = new RawSpectrum
        {
            Id = "quad",
            Counts = Enumerable.Range(0, 4096).Select(c => (long)(c % 97)).ToArray(),
            Calibration = new EnergyCalibration(-0.05, 0.0073, 1e-7),
            LiveTime = TimeSpan.FromSeconds(60),
        };
        using var text = new StringWriter();

        AmptekMcaWriter.Write(text, spectrum);
        var again = ReadText(text.ToString());

        Assert.Equal(spectrum.Counts, again.Counts);
        Assert.Equal(-0.05, again.Calibration.OffsetKeV, 9);
        Assert.Equal(0.0073, again.Calibration.GainKeVPerChannel, 11);
        Assert.Equal(1e-7, again.Calibration.QuadraticKeVPerChannel2, 14);
        Assert.Contains("GAIN - 4\r\n", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("MCAC=4096;", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_HeaderFields_AppearInTheFile()
    {
        var header = new AmptekMcaHeader
        {
            Tag = "acquire",
            Description = "Steel coupon\nline two",
            StartTime = new DateTimeOffset(2026, 11, 21, 7, 5, 9, TimeSpan.Zero),
            SerialNumber = "12345",
            Configuration = [new("MCAC", "1024"), new("PRET", "30.0")],
            Status = [new("Device Type", "DP5")],
        };
        var spectrum = new RawSpectrum { Id = "h", Counts = new long[1024], Calibration = new EnergyCalibration(0, 0.03) };
        using var text = new StringWriter();

        AmptekMcaWriter.Write(text, spectrum, header);
        var written = text.ToString();

        Assert.StartsWith("<<PMCA SPECTRUM>>\r\nTAG - acquire\r\nDESCRIPTION - Steel coupon line two\r\n", written, StringComparison.Ordinal);
        Assert.Contains("START_TIME - 11/21/2026 07:05:09\r\n", written, StringComparison.Ordinal);
        Assert.Contains("SERIAL_NUMBER - 12345\r\n", written, StringComparison.Ordinal);
        Assert.Contains("<<DP5 CONFIGURATION>>\r\nMCAC=1024;\r\nPRET=30.0;\r\n<<DP5 CONFIGURATION END>>\r\n", written, StringComparison.Ordinal);
        Assert.Contains("<<DPP STATUS>>\r\nDevice Type: DP5\r\n<<DPP STATUS END>>\r\n", written, StringComparison.Ordinal);
        Assert.Equal("30.0", ReadText(written).Metadata["dp5.PRET"]);
    }

    [Fact]
    public void Write_NonPowerOfTwoChannels_OmitsGainAndReadsBack()
    {
        var spectrum = new RawSpectrum { Id = "odd", Counts = Enumerable.Repeat(3L, 1000).ToArray(), Calibration = new EnergyCalibration(0, 0.03) };
        using var text = new StringWriter();

        AmptekMcaWriter.Write(text, spectrum);

        Assert.DoesNotContain("GAIN -", text.ToString(), StringComparison.Ordinal);
        Assert.Equal(1000, ReadText(text.ToString()).Counts.Length);
    }

    [Fact]
    public void Write_NegativeCount_Throws()
    {
        var spectrum = new RawSpectrum { Id = "neg", Counts = new long[256], Calibration = new EnergyCalibration(0, 0.03) };
        spectrum.Counts[7] = -1;

        var error = Assert.Throws<ArgumentException>(() => AmptekMcaWriter.Write(TextWriter.Null, spectrum));

        Assert.Contains("channel 7 has negative counts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteFile_Latin1_ReadAllGivesTheSameSpectrum()
    {
        var path = Path.Combine(Path.GetTempPath(), $"xrfedge-{Guid.NewGuid():N}.mca");
        try
        {
            var original = ReadFixture();
            AmptekMcaWriter.WriteFile(path, original);

            var again = SpectrumFileReader.ReadAll(path).Single();

            Assert.True(again.IsSuccess, again.Error);
            Assert.Equal(original.Counts, again.Spectrum!.Spectrum.Counts);
            Assert.Equal("33°C", again.Spectrum.Spectrum.Metadata["status.Board Temp"]);
            Assert.Equal((byte)0xB0, File.ReadAllBytes(path).First(b => b > 0x7F));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_SplitAcrossCrLfAndLf_Same()
    {
        var lf = Minimal("<<CALIBRATION>>\nLABEL - keV\n0 0\n255 10.2\n");
        var crlf = lf.Replace("\n", "\r\n", StringComparison.Ordinal);

        Assert.Equal(ReadText(lf).Counts, ReadText(crlf).Counts);
        Assert.Equal(Encoding.ASCII.GetByteCount(lf), lf.Length);
    }
}
