using System.Globalization;
using System.Text;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Tests.Formats;

/// <summary>
/// Third review of the readers (2026-11-24): a CSV copy cut inside its last row (a USB stick pulled mid-copy) must fail
/// naming the file and row, never read as a spectrum whose last count is silently different.
/// </summary>
public sealed class CsvCutRowTests
{
    // 64 channels, the fewest accepted (SpectrumJsonl.MinChannels); the last count has four digits so a cut inside it changes it.
    private const int Channels = 64;

    private static readonly SpectrumReadOptions Fallback = new() { FallbackCalibration = new EnergyCalibration(0, 0.04) };

    private static long Count(int channel) => channel == Channels - 1 ? 1234 : channel % 13;

    /// <summary>The CSV layouts <see cref="CsvSpectrumReader"/> reads, each a whole 64-channel file ending with a line break.</summary>
    public static TheoryData<string, string> CsvLayouts() => new()
    {
        { "counts.csv", string.Concat(Enumerable.Range(0, Channels).Select(c => Invariant($"{Count(c)}\n"))) },
        { "channel-counts.csv", string.Concat(Enumerable.Range(0, Channels).Select(c => Invariant($"{c},{Count(c)}\n"))) },
        { "energy-counts.csv", "energy_kev,counts\n" + string.Concat(Enumerable.Range(0, Channels).Select(c => Invariant($"{0.02 + (0.04 * c):0.00},{Count(c)}\n"))) },
        { "channel-energy-counts.tsv", string.Concat(Enumerable.Range(0, Channels).Select(c => Invariant($"{c}\t{0.02 + (0.04 * c):0.00}\t{Count(c)}\r\n"))) },
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

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

    [Theory]
    [MemberData(nameof(CsvLayouts))]
    public void Csv_WholeFile_ReadWithItsLastCount(string source, string text)
    {
        var result = ReadOne(text, source);

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(1234, result.Spectrum!.Spectrum.Counts[^1]);
    }

    [Theory]
    [MemberData(nameof(CsvLayouts))]
    public void Csv_CutInsideTheLastCount_RejectedNamingTheLastRow(string source, string text)
    {
        // "1234" cut to "12": the row still has all its columns, so only the missing line break shows the cut.
        var cut = text[..(text.LastIndexOf("1234", StringComparison.Ordinal) + 2)];

        var result = Fails(cut, source, "the file ends inside its last row");

        Assert.Equal(text.Count(c => c == '\n'), result.LineNumber);
    }

    [Fact]
    public void Csv_LastRowCutBeforeItsLastColumn_ErrorSaysTheFileWasCut()
    {
        // "63,2.54,1234" cut after the energy: the row is short of a column because the copy stopped there.
        var text = string.Concat(Enumerable.Range(0, Channels).Select(c => Invariant($"{c},{0.02 + (0.04 * c):0.00},{Count(c)}\n")));
        var cut = text[..text.LastIndexOf(",1234", StringComparison.Ordinal)];

        var result = Fails(cut, "three.csv", "the last row has 2 of 3 columns and no line break after it");

        Assert.Equal(Channels, result.LineNumber);
    }

    [Fact]
    public void Csv_CommentAfterTheLastRow_LastRowCounted()
    {
        // A trailing comment line shows the data row before it was written whole, line break included.
        var text = string.Concat(Enumerable.Range(0, Channels).Select(c => Invariant($"{c},{Count(c)}\n"))) + "# exported by hand";

        Assert.Equal(0.04, Reads(text, "commented.csv").GainKeVPerChannel, 12);
    }

    [Theory]
    [InlineData("{0},{1},")]
    [InlineData("{0} {1}   ")]
    [InlineData("{0}\t{1}\t")]
    [InlineData("\"{0}\",\"{1}\"")]
    public void Csv_LastRowWithoutLineBreakButEndingAfterItsLastField_Read(string rowFormat)
    {
        // Excel's trailing ",", a .txt padded with spaces, a quoted last field: something follows the last count, so it was
        // written whole even though no line break ends the file. These were refused as "ends inside its last row".
        var text = string.Join('\n', Enumerable.Range(0, Channels).Select(c => string.Format(CultureInfo.InvariantCulture, rowFormat, c, Count(c))));

        var result = ReadOne(text, "no-final-break.csv");

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(1234, result.Spectrum!.Spectrum.Counts[^1]);
    }

    [Fact]
    public void Csv_PaddedLastRowCutInsideItsCount_StillRejected()
    {
        // The padding rule must not let a cut through: "63 1234   " cut to "63 12" ends on a digit.
        var text = string.Concat(Enumerable.Range(0, Channels).Select(c => Invariant($"{c} {Count(c)}   \n")));
        var cut = text[..(text.LastIndexOf("1234", StringComparison.Ordinal) + 2)];

        Fails(cut, "padded.txt", "the file ends inside its last row");
    }

    /// <summary>
    /// Every layout cut at every byte: an error naming the file and a line, or counts that are the whole file's, or its
    /// first n when the cut fell between row n−1's last field and row n (after a line break, a trailing delimiter or
    /// padding; CSV declares no length, so that is a shorter table of whole rows). Never a count the file does not hold.
    /// 80 channels, so that cuts in rows 64–79 leave enough rows to pass the 64-channel minimum and reach the last-row
    /// rule; every count has four digits, so a cut inside any of them changes it.
    /// </summary>
    [Fact]
    public void Csv_CutAtEveryByte_WholeCountsOrAnErrorNamingTheLine()
    {
        const int rows = 80;
        long FourDigits(int channel) => 1000 + ((channel * 7919) % 9000);
        var layouts = new (string Name, string Header, Func<int, string> Row, string LineBreak)[]
        {
            ("counts.csv", string.Empty, c => Invariant($"{FourDigits(c)}"), "\n"),
            ("channel-counts.csv", string.Empty, c => Invariant($"{c},{FourDigits(c)}"), "\n"),
            ("energy-counts.csv", "energy_kev,counts\n", c => Invariant($"{0.02 + (0.04 * c):0.00},{FourDigits(c)}"), "\n"),
            ("channel-energy-counts.tsv", string.Empty, c => Invariant($"{c}\t{0.02 + (0.04 * c):0.00}\t{FourDigits(c)}"), "\r\n"),
            ("excel.csv", "Channel,Counts,\r\n", c => Invariant($"{c},{FourDigits(c)},"), "\r\n"),
            ("padded.txt", string.Empty, c => Invariant($"{c,3}   {FourDigits(c),5}   "), "\n"),
            ("quoted.csv", "\"Channel\",\"Counts\"\n", c => Invariant($"\"{c}\",\"{FourDigits(c)}\""), "\n"),
        };

        foreach (var (name, header, row, lineBreak) in layouts)
        {
            // Where each row's last field ends (a cut there or later, up to the next row, leaves that row whole).
            var text = new StringBuilder(header);
            var fieldEnds = new List<int>();
            for (var c = 0; c < rows; c++)
            {
                var line = row(c);
                fieldEnds.Add(text.Length + line.TrimEnd(' ', ',', '\t').Length);
                text.Append(line).Append(lineBreak);
            }

            SpectrumReadResult Read(string file) => CsvSpectrumReader.Read(new StringReader(file), name, Fallback);
            var whole = Read(text.ToString());
            Assert.True(whole.IsSuccess, whole.Error);
            var wholeCounts = whole.Spectrum!.Spectrum.Counts;
            Assert.Equal(Enumerable.Range(0, rows).Select(FourDigits), wholeCounts);

            for (var cut = 1; cut < text.Length; cut++)
            {
                var result = Read(text.ToString(0, cut));
                if (!result.IsSuccess)
                {
                    Assert.True(result.LineNumber > 0 && result.Error!.StartsWith(name + " line ", StringComparison.Ordinal), $"{name} cut at {cut}: {result.Error}");
                    continue;
                }

                var counts = result.Spectrum!.Spectrum.Counts;
                var wholeRows = fieldEnds.Count(end => end <= cut);
                Assert.True(counts.Length == wholeRows && counts.SequenceEqual(wholeCounts.Take(wholeRows)), $"{name} cut at {cut} read {counts.Length} channels ending {counts[^1]}; the whole rows before the cut are {wholeRows}");
            }
        }
    }
}
