using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
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

    /// <summary>
    /// Every layout cut at any byte that is not just after a line break: the whole spectrum or an error naming the file.
    /// (A cut just after a line break leaves whole rows only and reads as a shorter spectrum: CSV declares no length.)
    /// </summary>
    [Fact]
    public void Csv_CutAtAnyByteButALineBreak_WholeSpectrumOrAnError()
    {
        var files = CsvLayouts().Select(row => ((string)row[0], (string)row[1])).ToArray();
        var cases = from file in Gen.Elements(files)
                    from cut in Gen.Choose(1, int.MaxValue)
                    let at = 1 + (cut % (file.Item2.Length - 1))
                    where file.Item2[at - 1] is not ('\n' or '\r')
                    select (Name: file.Item1, Text: file.Item2, Cut: at);
        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var whole = ReadOne(c.Text, c.Name);
            var cut = ReadOne(c.Text[..c.Cut], c.Name);
            return whole.IsSuccess
                && (cut.IsSuccess
                    ? cut.Spectrum!.Spectrum.Counts.SequenceEqual(whole.Spectrum!.Spectrum.Counts)
                    : cut.Error!.StartsWith(c.Name + ":", StringComparison.Ordinal) || cut.Error.StartsWith(c.Name + " line ", StringComparison.Ordinal));
        });

        // The files are under 1 kB; 600 cuts run in well under a second.
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(600), property);
    }
}
