using XrfEdge.Devices.Formats;

namespace XrfEdge.Devices.Tests.Formats;

public sealed class MalformedCorpusTests
{
    /// <summary>
    /// Every file of Malformed/ (written by Fixtures/make_fixtures.py) with the line its error must name (0 = the
    /// whole file) and a fragment of the problem. Line numbers come from the generator's layout, e.g. the .mca header
    /// is 11 lines, then <c>&lt;&lt;CALIBRATION&gt;&gt;</c> on line 12.
    /// </summary>
    public static TheoryData<string, int, string> Cases => new()
    {
        // 100 of the 256 channels GAIN - 0 declares, no <<END>>: caught by the channel-count check at <<DATA>> (line 18).
        { "truncated.mca", 18, "<<DATA>> holds 100 channels but GAIN - 0 means 256; the file is truncated or corrupt" },
        // Channel 10 is the 11th data line after <<DATA>> on line 18.
        { "non-numeric.mca", 29, "count of channel 10 is \"12a\", not a number" },
        { "negative-counts.mca", 39, "count of channel 20 is -5; counts must be non-negative integers" },
        { "zero-channels.mca", 18, "no channels: the data section is empty" },
        { "missing-data.mca", 18, "missing <<DATA>> section" },
        // Points (0, 10 keV) and (255, 1 keV) give a negative gain.
        { "absurd-calibration.mca", 12, "absurd energy calibration: gain must be positive" },
        { "wrong-channel-count.mca", 17, "<<DATA>> holds 256 channels but the configuration says MCAC=1024" },
        { "not-pmca.mca", 1, "not an Amptek .mca file" },
        { "empty.mca", 0, "the file is empty" },
        { "no-calibration.mca", 0, "the file has no energy calibration; give one with --offset-kev and --gain-kev-per-channel" },
        // $DATA: on line 9 declares 0..127; the file stops after 50 counts.
        { "truncated.spe", 9, "$DATA: declares 128 channels (0 to 127) but only 50 counts follow; the file is truncated" },
        { "non-numeric.spe", 11, "is \"x12\", not a number" },
        { "missing-data.spe", 7, "missing $DATA: block" },
        // $MCA_CAL: "0 5.0 0" is 5 keV/channel, above EnergyCalibration.MaxGainKeVPerChannel (2).
        { "absurd-calibration.spe", 144, "absurd energy calibration: gain 5 keV/channel is above the plausible maximum" },
        { "truncated.msa", 18, "#NPOINTS says 128 channels but only 35 values follow #SPECTRUM; the file is truncated" },
        { "missing-spectrum.msa", 17, "missing data section" },
        { "too-many-points.msa", 39, "more data points than #NPOINTS 100" },
        { "bad-xunits.msa", 9, "#XUNITS \"furlongs\" is not an energy unit" },
        { "non-integer.msa", 19, "count of channel 0 is 2.5, not an integer" },
        { "negative.csv", 8, "count of channel 7 is -3; counts must be non-negative integers" },
        { "non-numeric.csv", 13, "count of channel 12 is \"n/a\", not a number" },
        { "too-few-channels.csv", 1, "spectrum has 10 channels; 64 to 16384 are accepted" },
        // Row 41 repeats the energy of channel 38: energies must increase.
        { "energies-not-increasing.csv", 42, "energies must increase from row to row" },
        { "ragged-columns.csv", 31, "row has 3 columns, the first row has 2" },
        { "header-only.csv", 1, "no channels" },
        { "unknown-format.bin", 0, "unknown spectrum file format" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ReadAll_MalformedFile_OneErrorNamingFileLineAndProblem(string name, int line, string problem)
    {
        var path = TestFiles.Malformed(name);

        var result = Assert.Single(SpectrumFileReader.ReadAll(path));

        Assert.False(result.IsSuccess);
        Assert.Null(result.Spectrum);
        Assert.Equal(line, result.LineNumber);
        Assert.Contains(problem, result.Problem, StringComparison.Ordinal);
        var location = line > 0 ? $"{path} line {line}: " : $"{path}: ";
        Assert.StartsWith(location, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAll_JsonlWithBadLines_ReportsEachAndKeepsTheGoodOne()
    {
        var results = SpectrumFileReader.ReadAll(TestFiles.Malformed("bad-lines.jsonl")).ToList();

        Assert.Equal(3, results.Count);
        Assert.True(results[0].IsSuccess);
        Assert.Equal("j-1", results[0].Id);
        Assert.EndsWith("bad-lines.jsonl line 2: missing field \"calibration\"", results[1].Error, StringComparison.Ordinal);
        Assert.EndsWith("bad-lines.jsonl line 3: counts[63] is -4; counts must be non-negative integers", results[2].Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Corpus_EveryFileHasAnExpectedError()
    {
        var covered = Cases.Select(row => (string)row[0]).Append("bad-lines.jsonl").ToHashSet();

        var files = Directory.GetFiles(TestFiles.MalformedFolder).Select(f => Path.GetFileName(f));

        Assert.All(files, f => Assert.Contains(f, covered));
    }
}
