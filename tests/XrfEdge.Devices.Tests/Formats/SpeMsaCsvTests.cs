using XrfEdge.Devices.Formats;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Devices.Tests.Formats;

public sealed class SpeMsaCsvTests
{
    private static RawSpectrum Fixture(string name, SpectrumReadOptions? options = null)
    {
        var result = Assert.Single(SpectrumFileReader.ReadAll(TestFiles.Fixture(name), options));
        Assert.True(result.IsSuccess, result.Error);
        return result.Spectrum!.Spectrum;
    }

    private static string Counts(int n) => string.Join('\n', Enumerable.Range(0, n).Select(c => (c % 13).ToString(System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Spe_Fixture_McaCalWinsOverEnerFit()
    {
        var spectrum = Fixture("ortec-128.spe");

        // make_fixtures.py: $MCA_CAL 0.1, 0.05, 1e-5 (keV); $ENER_FIT says 0, 0.04 and must lose.
        Assert.Equal(128, spectrum.Counts.Length);
        Assert.Equal(new EnergyCalibration(0.1, 0.05, 1e-5), spectrum.Calibration);
        Assert.Equal(TimeSpan.FromSeconds(29), spectrum.LiveTime);
        Assert.Equal(TimeSpan.FromSeconds(30), spectrum.RealTime);
        Assert.Equal("XrfEdge test fixture", spectrum.Metadata["spe.SPEC_ID"]);
        Assert.Equal(100, Array.IndexOf(spectrum.Counts, spectrum.Counts.Max()));
    }

    [Fact]
    public void Spe_EnerFitOnly_UsesIt()
    {
        var text = $"$SPEC_ID:\nx\n$DATA:\n0 63\n{Counts(64)}\n$ENER_FIT:\n-0.035087 0.182804\n";

        var spectrum = SpeReader.Read(new StringReader(text), "e.spe").Spectrum!.Spectrum;

        // The reference note's Maestro example: offset −0.035087 keV, 0.182804 keV/channel.
        Assert.Equal(new EnergyCalibration(-0.035087, 0.182804), spectrum.Calibration);
    }

    [Theory]
    [InlineData("-0.035087 0.182804 keV")]
    [InlineData("-35.087 182.804 eV")]
    public void Spe_EnerFitWithAUnit_ReadInThatUnit(string enerFit)
    {
        // The reference note's Maestro example (−0.035087 keV, 0.182804 keV/channel) with a unit, as $MCA_CAL: takes one;
        // $ENER_FIT: refused it as 'coefficient "keV" is not a number'.
        var text = $"$SPEC_ID:\nx\n$DATA:\n0 63\n{Counts(64)}\n$ENER_FIT:\n{enerFit}\n";

        var result = SpeReader.Read(new StringReader(text), "unit.spe");

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(-0.035087, result.Spectrum!.Spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(0.182804, result.Spectrum.Spectrum.Calibration.GainKeVPerChannel, 9);
    }

    [Fact]
    public void Spe_FirstChannelNotZero_CalibrationReexpressedForIndexZero()
    {
        // $DATA: 10 73 → index 0 is channel 10, so E(index 0) = 0.2 + 0.05·10 = 0.7 keV.
        var text = $"$SPEC_ID:\nx\n$DATA:\n10 73\n{Counts(64)}\n$MCA_CAL:\n2\n0.2 0.05\n";

        var result = SpeReader.Read(new StringReader(text), "f.spe");

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(0.7, result.Spectrum!.Spectrum.Calibration.OffsetKeV, 12);
        Assert.Equal(0.05, result.Spectrum.Spectrum.Calibration.GainKeVPerChannel, 12);
    }

    [Fact]
    public void Spe_AllZeroCalibration_IsUncalibratedAndTakesTheFallback()
    {
        var text = $"$SPEC_ID:\nx\n$DATA:\n0 63\n{Counts(64)}\n$MCA_CAL:\n3\n0 0 0\n";

        var without = SpeReader.Read(new StringReader(text), "z.spe");
        var with = SpeReader.Read(new StringReader(text), "z.spe", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.1) });

        Assert.Contains("no energy calibration", without.Problem, StringComparison.Ordinal);
        Assert.Equal(new EnergyCalibration(0, 0.1), with.Spectrum!.Spectrum.Calibration);
    }

    [Fact]
    public void Spe_SeveralCountsPerLine_Accepted()
    {
        var values = string.Join(' ', Enumerable.Repeat("7", 64));
        var text = $"$DATA:\n0 63\n{values}\n$MCA_CAL:\n2\n0 0.1\n";

        var spectrum = SpeReader.Read(new StringReader(text), "m.spe").Spectrum!.Spectrum;

        Assert.Equal(64 * 7, spectrum.TotalCounts);
    }

    [Fact]
    public void Msa_FixtureInEv_ConvertedToKeVWithTimesAndBeamVoltage()
    {
        var spectrum = Fixture("emsa-y-ev.msa");

        // #XPERCHAN 50 eV, #OFFSET −100 eV, #LIVETIME 29.5 s, #REALTIME 30 s, #BEAMKV 40 kV (make_fixtures.py).
        Assert.Equal(128, spectrum.Counts.Length);
        Assert.Equal(-0.1, spectrum.Calibration.OffsetKeV, 12);
        Assert.Equal(0.05, spectrum.Calibration.GainKeVPerChannel, 12);
        Assert.Equal(TimeSpan.FromSeconds(29.5), spectrum.LiveTime);
        Assert.Equal(TimeSpan.FromSeconds(30), spectrum.RealTime);
        Assert.Equal(40, spectrum.Excitation!.TubeVoltageKilovolts);
        Assert.Equal("XRF", spectrum.Metadata["msa.SIGNALTYPE"]);
        Assert.Equal(80, Array.IndexOf(spectrum.Counts, spectrum.Counts.Max()));
    }

    [Fact]
    public void Msa_XyFixture_ReadsTheYColumn()
    {
        var spectrum = Fixture("emsa-xy-kev.msa");

        // x = 1.0 + 0.02·i keV; the peak of 1000 + 5 counts is at i = 30.
        Assert.Equal(64, spectrum.Counts.Length);
        Assert.Equal(new EnergyCalibration(1.0, 0.02), spectrum.Calibration);
        Assert.Equal(1005, spectrum.Counts[30]);
    }

    [Fact]
    public void Msa_XyWithoutXperchan_CalibratesFromTheXColumn()
    {
        var rows = string.Join('\n', Enumerable.Range(0, 64).Select(i => FormattableString.Invariant($"{200 + (10 * i)}, {i}")));
        var text = $"#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 64\n#XUNITS : eV\n#DATATYPE : XY\n#SPECTRUM :\n{rows}\n#ENDOFDATA :\n";

        var spectrum = MsaReader.Read(new StringReader(text), "xy.msa").Spectrum!.Spectrum;

        // x runs 200 eV … 830 eV in 10 eV steps.
        Assert.Equal(0.2, spectrum.Calibration.OffsetKeV, 12);
        Assert.Equal(0.01, spectrum.Calibration.GainKeVPerChannel, 12);
    }

    [Fact]
    public void Msa_NoXunits_GuessesAndRecordsTheGuess()
    {
        var data = string.Join(", ", Enumerable.Repeat("1", 64));
        var text = $"#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 64\n#XPERCHAN : 0.01\n#CHOFFSET : 10\n#SPECTRUM :\n{data}\n#ENDOFDATA :\n";

        var spectrum = MsaReader.Read(new StringReader(text), "g.msa").Spectrum!.Spectrum;

        // 0.01 per channel can only be keV (NeXLSpectrum's rule); OFFSET = −CHOFFSET·XPERCHAN = −0.1 keV.
        Assert.Equal("keV", spectrum.Metadata["msa.XUNITS_ASSUMED"]);
        Assert.Equal(-0.1, spectrum.Calibration.OffsetKeV, 12);
    }

    [Fact]
    public void Msa_NotEmsaFirstLine_Fails()
    {
        var result = MsaReader.Read(new StringReader("#TITLE : x\n"), "t.msa");

        Assert.Equal(1, result.LineNumber);
        Assert.Contains("not an EMSA/MAS file", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Msa_BareHashLineInData_ErrorNotException()
    {
        // A lone "#" inside the data once threw ArgumentOutOfRangeException (found by the corruption property test).
        var text = "#FORMAT : EMSA/MAS Spectral Data File\n#NPOINTS : 64\n#XPERCHAN : 10\n#XUNITS : eV\n#SPECTRUM :\n1, 2\n#\n";

        var result = MsaReader.Read(new StringReader(text), "hash.msa");

        Assert.Equal(7, result.LineNumber);
        Assert.Contains("unexpected \"#\" inside the data", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_ChannelCounts_NeedsAndUsesTheFallback()
    {
        var without = Assert.Single(SpectrumFileReader.ReadAll(TestFiles.Fixture("channel-counts.csv")));
        var with = Fixture("channel-counts.csv", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0.0, 0.1) });

        Assert.Contains("give one with --offset-kev and --gain-kev-per-channel", without.Error, StringComparison.Ordinal);
        Assert.Equal(100, with.Counts.Length);
        Assert.Equal(new EnergyCalibration(0.0, 0.1), with.Calibration);
        Assert.Equal(1005, with.Counts[50]);
    }

    [Fact]
    public void Csv_EnergyCounts_FitsTheEnergyColumn()
    {
        var spectrum = Fixture("energy-counts.csv");

        // Rows are channel centres 0.015 + 0.03·c keV (make_fixtures.py).
        Assert.Equal(200, spectrum.Counts.Length);
        Assert.Equal(0.015, spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(0.03, spectrum.Calibration.GainKeVPerChannel, 9);
        Assert.Equal("energy_kev,counts", spectrum.Metadata["csv.header"]);
    }

    [Fact]
    public void Csv_TsvCountsOnly_ReadWithFallback()
    {
        var spectrum = Fixture("counts-only.tsv", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0.05, 0.1) });

        Assert.Equal(64, spectrum.Counts.Length);
        Assert.Equal(1005, spectrum.Counts[20]);
    }

    [Fact]
    public void Csv_QuadraticEnergyColumn_FitsTheQuadratic()
    {
        // E = 0.1 + 0.02·c + 3e-6·c², written to 9 decimals (far below 1 % of a 0.02-keV channel).
        var rows = Enumerable.Range(0, 500).Select(c => FormattableString.Invariant($"{0.1 + (0.02 * c) + (3e-6 * c * c):F9}\t{c % 5}"));
        var text = "Energy (keV)\tCounts\n" + string.Join('\n', rows) + "\n";

        var spectrum = CsvSpectrumReader.Read(new StringReader(text), "q.tsv").Spectrum!.Spectrum;

        Assert.Equal(0.1, spectrum.Calibration.OffsetKeV, 7);
        Assert.Equal(0.02, spectrum.Calibration.GainKeVPerChannel, 8);
        Assert.Equal(3e-6, spectrum.Calibration.QuadraticKeVPerChannel2, 10);
    }

    [Fact]
    public void Csv_ThreeColumnsWithHeaderAndOneBasedChannels_ShiftsTheFallback()
    {
        // Channel numbers 1…64 and the energy column in eV: E(index 0) = 50 eV, 100 eV per channel.
        var rows = Enumerable.Range(1, 64).Select(c => FormattableString.Invariant($"{c};{(c * 100) - 50};{c}"));
        var text = "Channel;Energy_eV;Counts\n" + string.Join('\n', rows) + "\n";

        var spectrum = CsvSpectrumReader.Read(new StringReader(text), "three.csv").Spectrum!.Spectrum;

        Assert.Equal(0.05, spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(0.1, spectrum.Calibration.GainKeVPerChannel, 9);
        Assert.Equal(1, spectrum.Counts[0]);
    }

    [Fact]
    public void Csv_OneBasedChannelCounts_FallbackRefersToChannelNumbers()
    {
        // Channels 1…64 with --offset-kev 0 --gain 0.1: index 0 is channel 1, at 0.1 keV.
        var text = string.Join('\n', Enumerable.Range(1, 64).Select(c => FormattableString.Invariant($"{c},{c}"))) + "\n";

        var spectrum = CsvSpectrumReader.Read(new StringReader(text), "one.csv", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.1) }).Spectrum!.Spectrum;

        Assert.Equal(0.1, spectrum.Calibration.OffsetKeV, 12);
    }

    [Fact]
    public void Csv_BrokenChannelSequence_FailsAtTheRow()
    {
        var text = string.Join('\n', Enumerable.Range(0, 64).Select(c => FormattableString.Invariant($"{(c == 30 ? 99 : c)},1")));

        var result = CsvSpectrumReader.Read(new StringReader("channel,counts\n" + text), "gap.csv", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.1) });

        Assert.Equal(32, result.LineNumber);
        Assert.Contains("channel 99 breaks the sequence; expected 30", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_EveryFieldQuoted_ReadAsTheBareValues()
    {
        // RFC 4180 lets a writer quote any field (pandas QUOTE_ALL, LIMS exports); a quoted first row was taken for a header
        // and refused with 'the header ""0","0"" must name exactly one counts column'.
        var text = "\"channel\",\"counts\"\n" + string.Concat(Enumerable.Range(0, 64).Select(c => FormattableString.Invariant($"\"{c}\",\"{c % 5}\"\n")));
        var headerless = text[(text.IndexOf('\n', StringComparison.Ordinal) + 1)..];
        var options = new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.1) };

        foreach (var file in new[] { text, headerless })
        {
            var result = CsvSpectrumReader.Read(new StringReader(file), "quoted.csv", options);

            Assert.True(result.IsSuccess, result.Error);
            Assert.Equal(Enumerable.Range(0, 64).Select(c => (long)(c % 5)), result.Spectrum!.Spectrum.Counts);
        }
    }

    [Theory]
    [InlineData("Energy/keV,Counts", 1.0)]
    [InlineData("E (keV),Counts", 1.0)]
    [InlineData("Energy [eV];Counts", 1000.0)]
    [InlineData("Energy (MeV),Counts", 0.001)]
    [InlineData("Channel Energy (keV)\tCounts", 1.0)]
    public void Csv_EnergyColumnUnderAnotherName_CalibratesFromIt(string header, double unitsPerKeV)
    {
        // Channel centres at 0.02 + 0.04·c keV; the fallback (0, 0.1) must not be used when the file has energies. An
        // energy header outside the exact list ("Energy/keV") was ignored and the fallback taken silently.
        var separator = header.Contains('\t', StringComparison.Ordinal) ? "\t" : header.Contains(';', StringComparison.Ordinal) ? ";" : ",";
        var text = header + "\n" + string.Concat(Enumerable.Range(0, 64).Select(c => FormattableString.Invariant($"{(0.02 + (0.04 * c)) * unitsPerKeV:0.#########}{separator}{c % 5}\n")));

        var result = CsvSpectrumReader.Read(new StringReader(text), "named.csv", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.1) });

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(0.02, result.Spectrum!.Spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(0.04, result.Spectrum.Spectrum.Calibration.GainKeVPerChannel, 9);
    }

    [Theory]
    [InlineData("Energy (keV),Counts,FWHM (eV)")]
    [InlineData("Energy (keV),Counts,Counts/keV")]
    [InlineData("E (keV),Counts,Sigma (keV)")]
    [InlineData("Channel,Energy (keV),Counts,Counts per channel")]
    [InlineData("Energy (keV),Counts,ROI channel")]
    public void Csv_OtherColumnWithAnEnergyUnitOrChannelWord_IgnoredAndEnergyColumnUsed(string header)
    {
        // Exports add columns beside the spectrum: a resolution "FWHM (eV)", a density "Counts/keV", an ROI's channel. Read
        // by any word they became a second energy or channel column and the file was refused ("more than one energy or
        // channel column"); before the word rule they were ignored and the file read. Energies as in the test above.
        var names = header.Split(',');
        var text = header + "\n" + string.Concat(Enumerable.Range(0, 64).Select(c => string.Join(',', names.Select(name => name switch
        {
            "Channel" => FormattableString.Invariant($"{c}"),
            "Energy (keV)" or "E (keV)" => FormattableString.Invariant($"{0.02 + (0.04 * c):0.00}"),
            "Counts" => FormattableString.Invariant($"{c % 5}"),
            _ => FormattableString.Invariant($"{(c * 7) % 3}.5"),
        })) + "\n"));

        var result = CsvSpectrumReader.Read(new StringReader(text), "extra-columns.csv", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.1) });

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(0.02, result.Spectrum!.Spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(0.04, result.Spectrum.Spectrum.Calibration.GainKeVPerChannel, 9);
        Assert.Equal(Enumerable.Range(0, 64).Select(c => (long)(c % 5)), result.Spectrum.Spectrum.Counts);
    }

    [Theory]
    [InlineData("\"Energy, keV\",\"Counts\"")]
    [InlineData("\"Energy (keV)\",\"Counts, gross\",\"Counts\"")]
    [InlineData("\"Energy \"\"E\"\" (keV)\",Counts")]
    public void Csv_QuotedHeaderHoldingTheDelimiter_ReadAsOneName(string header)
    {
        // Excel and LibreOffice quote a cell holding the delimiter ("Energy, keV"), and RFC 4180 doubles a quote inside one.
        // The quoted field was split at its comma: "Energy and keV" made two energy columns and the file was refused.
        var rest = header.Contains("gross", StringComparison.Ordinal) ? ",7" : string.Empty;
        var text = header + "\n" + string.Concat(Enumerable.Range(0, 64).Select(c => FormattableString.Invariant($"{0.02 + (0.04 * c):0.00}{rest},{c % 5}\n")));

        var result = CsvSpectrumReader.Read(new StringReader(text), "quoted-header.csv", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.1) });

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(0.04, result.Spectrum!.Spectrum.Calibration.GainKeVPerChannel, 9);
        Assert.Equal(Enumerable.Range(0, 64).Select(c => (long)(c % 5)), result.Spectrum.Spectrum.Counts);
    }

    [Fact]
    public void Csv_SpaceSeparatedQuotedHeader_ReadAsTwoNames()
    {
        // '"Energy (keV)" "Counts"' was split at every space, quotes and all, and refused as a header without a counts column.
        var text = "\"Energy (keV)\" \"Counts\"\n" + string.Concat(Enumerable.Range(0, 64).Select(c => FormattableString.Invariant($"{0.02 + (0.04 * c):0.00} {c % 5}\n")));

        var result = CsvSpectrumReader.Read(new StringReader(text), "spaces.txt");

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(0.04, result.Spectrum!.Spectrum.Calibration.GainKeVPerChannel, 9);
    }

    [Theory]
    [InlineData("Energy (keV),Counts,Net counts")]
    [InlineData("Channel,Energy,Counts,Background")]
    [InlineData("keV,Counts,ROI")]
    [InlineData("\"Channel\",\"Energy (keV)\",\"Counts\",")]
    public void Csv_HeadersSeenInExports_ReadWithTheirEnergies(string header)
    {
        // Headers from spectrum exports (a net-counts or background column beside the counts; a LibreOffice export with quoted names and a trailing delimiter); the extra columns are ignored.
        var names = Fields(header);
        var text = header + "\r\n" + string.Concat(Enumerable.Range(0, 64).Select(c => string.Join(',', names.Select(name => name switch
        {
            "Channel" => FormattableString.Invariant($"{c}"),
            "Energy (keV)" or "Energy" or "keV" => FormattableString.Invariant($"{0.02 + (0.04 * c):0.00}"),
            "Counts" => FormattableString.Invariant($"{c % 5}"),
            _ => "3",
        })) + "\r\n"));

        var result = CsvSpectrumReader.Read(new StringReader(text), "export.csv", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.1) });

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(0.02, result.Spectrum!.Spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(0.04, result.Spectrum.Spectrum.Calibration.GainKeVPerChannel, 9);
        Assert.Equal(Enumerable.Range(0, 64).Select(c => (long)(c % 5)), result.Spectrum.Spectrum.Counts);

        static string[] Fields(string header) => header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(f => f.Trim('"')).ToArray();
    }

    [Theory]
    [InlineData("Energy in keV,Counts")]
    [InlineData("Energy, keV;Counts")]
    public void Csv_EnergyHeaderWithFillerWords_CalibratesFromIt(string header)
    {
        // "Energy in keV" names the channel energies as plainly as "E (keV)" does. Channel centres at 0.02 + 0.04·c keV.
        var separator = header.Contains(';', StringComparison.Ordinal) ? ";" : ",";
        var text = header + "\n" + string.Concat(Enumerable.Range(0, 64).Select(c => FormattableString.Invariant($"{0.02 + (0.04 * c):0.00}{separator}{c % 5}\n")));

        var result = CsvSpectrumReader.Read(new StringReader(text), "named.csv", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.1) });

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(0.02, result.Spectrum!.Spectrum.Calibration.OffsetKeV, 9);
        Assert.Equal(0.04, result.Spectrum.Spectrum.Calibration.GainKeVPerChannel, 9);
    }

    [Fact]
    public void Csv_MantidXYEHeader_EIsNotTheEnergy()
    {
        // Mantid's SaveAscii writes "X , Y , E" with E the error of Y: without a unit neither X nor E is an energy column, so
        // the counts (Y) take the fallback (0, 0.1) instead of the errors being fitted as energies.
        var text = "X , Y , E\n" + string.Concat(Enumerable.Range(0, 64).Select(c => FormattableString.Invariant($"{c} , {c % 5} , {Math.Sqrt(c % 5):0.###}\n")));

        var result = CsvSpectrumReader.Read(new StringReader(text), "mantid.csv", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.1) });

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(0.1, result.Spectrum!.Spectrum.Calibration.GainKeVPerChannel, 12);
        Assert.Equal(Enumerable.Range(0, 64).Select(c => (long)(c % 5)), result.Spectrum.Spectrum.Counts);
    }

    [Fact]
    public void Csv_ChannelColumnUnderAnotherName_ShiftsTheFallback()
    {
        // "Channel No." numbered from 1 was ignored, so index 0 took the fallback's channel 0: every energy one channel low.
        var text = "Channel No.,Counts\n" + string.Concat(Enumerable.Range(1, 64).Select(c => FormattableString.Invariant($"{c},{c % 5}\n")));

        var result = CsvSpectrumReader.Read(new StringReader(text), "numbered.csv", new SpectrumReadOptions { FallbackCalibration = new EnergyCalibration(0, 0.1) });

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(0.1, result.Spectrum!.Spectrum.Calibration.OffsetKeV, 12);
    }

    [Theory]
    [InlineData("", 1)]
    [InlineData("Energy;Counts\n", 2)]
    public void Csv_DecimalCommas_ErrorSaysSo(string header, int line)
    {
        // A European spreadsheet export: ';' between fields, ',' as the decimal mark. The headerless file failed with
        // 'count of channel 0 is "02;0"' (split on the comma), the one with a header with 'energy "0,02" is not a number'.
        var text = header + string.Concat(Enumerable.Range(0, 64).Select(c => FormattableString.Invariant($"{0.02 + (0.04 * c):0.00};{c % 5}\n").Replace('.', ',')));

        var result = CsvSpectrumReader.Read(new StringReader(text), "euro.csv");

        Assert.Equal(line, result.LineNumber);
        Assert.Contains("\"0,02\"", result.Problem, StringComparison.Ordinal);
        Assert.Contains("decimal comma", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_HeaderWithoutCounts_Fails()
    {
        var result = CsvSpectrumReader.Read(new StringReader("channel,energy\n0,0.1\n"), "h.csv");

        Assert.Equal(1, result.LineNumber);
        Assert.Contains("must name exactly one counts column", result.Problem, StringComparison.Ordinal);
    }
}
