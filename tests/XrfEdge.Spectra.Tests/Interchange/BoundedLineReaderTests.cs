using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Spectra.Tests.Interchange;

public sealed class BoundedLineReaderTests
{
    private static List<(string? Line, long TooLong)> ReadAll(string text, int max)
    {
        var reader = new BoundedLineReader(new StringReader(text), max);
        var lines = new List<(string?, long)>();
        while (reader.ReadLine(out var tooLong) is { } line)
        {
            lines.Add((line, tooLong));
        }

        return lines;
    }

    [Theory]
    [InlineData("a\nbb\r\nccc\rdd", new[] { "a", "bb", "ccc", "dd" })]
    [InlineData("a\n\nb\n", new[] { "a", "", "b" })]
    [InlineData("\r\n\r\n", new[] { "", "" })]
    [InlineData("", new string[0])]
    public void ReadLine_SplitsLikeTextReaderReadLine(string text, string[] expected)
    {
        var lines = ReadAll(text, 100);

        Assert.Equal(expected, lines.Select(l => l.Line));
        Assert.All(lines, l => Assert.Equal(0, l.TooLong));

        // The same lines TextReader.ReadLine gives.
        var reference = new List<string>();
        using var plain = new StringReader(text);
        while (plain.ReadLine() is { } line)
        {
            reference.Add(line);
        }

        Assert.Equal(reference, lines.Select(l => l.Line));
    }

    [Fact]
    public void ReadLine_LineLongerThanTheLimit_ReportedByLengthAndSkipped()
    {
        // 40,000 characters cross the reader's 16-Ki buffer twice; the lines around it are intact.
        var text = "short\n" + new string('x', 40_000) + "\r\nafter";

        var lines = ReadAll(text, 1000);

        Assert.Equal(3, lines.Count);
        Assert.Equal(("short", 0L), (lines[0].Line, lines[0].TooLong));
        Assert.Equal((string.Empty, 40_000L), (lines[1].Line, lines[1].TooLong));
        Assert.Equal(("after", 0L), (lines[2].Line, lines[2].TooLong));
    }

    [Fact]
    public void ReadLine_CrLfSplitAcrossTheBuffer_IsOneTerminator()
    {
        // The reader fills 16,384 characters at a time: '\r' ends the first fill, '\n' starts the second.
        var lines = ReadAll(new string('z', 16_383) + "\r\nnext", 20_000);

        Assert.Equal([new string('z', 16_383), "next"], lines.Select(l => l.Line));
    }

    [Fact]
    public void ReadLine_LineOfExactlyTheLimit_Returned()
    {
        var lines = ReadAll(new string('y', 1000) + "\n", 1000);

        Assert.Equal(new string('y', 1000), Assert.Single(lines).Line);
    }

    [Theory]
    [InlineData("a\nb\n", true)]
    [InlineData("a\nb\r\n", true)]
    [InlineData("a\nb\r", true)]
    [InlineData("a\nb", false)]
    public void LastLineTerminated_TellsWhetherTheTextEndsWithALineBreak(string text, bool expected)
    {
        var reader = new BoundedLineReader(new StringReader(text), 100);
        while (reader.ReadLine(out _) is not null)
        {
        }

        Assert.Equal(expected, reader.LastLineTerminated);
    }
}
