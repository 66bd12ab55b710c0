using System.Globalization;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Spectra.Tests.Interchange;

/// <summary>
/// A <c>.jsonl</c> file is streamed and has no size limit, so neither what the reader keeps from line to line nor what it
/// quotes in an error may grow with what the lines hold (the ids it remembered were kept whole; values were quoted whole).
/// </summary>
public sealed class SpectrumJsonlHostileLineTests
{
    // 64 channels: the format's minimum (spectra-jsonl.md).
    private static readonly string Counts = "[" + string.Join(',', Enumerable.Repeat("1", 64)) + "]";

    private static string Line(string id) =>
        $"{{\"id\":\"{id}\",\"counts\":{Counts},\"calibration\":{{\"offset_kev\":0,\"gain_kev_per_channel\":0.1}}}}";

    [Fact]
    public void Read_ManyLinesWithLongIds_IdsAreNotKeptWhole()
    {
        // 40 lines with ids of 1 Mi characters: kept whole, that is 80 MiB (UTF-16) held until the file ends.
        const int lines = 40;
        const int idLength = 1 << 20;
        using var reader = new GeneratedLines(lines, i => Line(i.ToString(CultureInfo.InvariantCulture) + new string('x', idLength)));
        using var results = SpectrumJsonl.Read(reader, "long-ids.jsonl").GetEnumerator();

        Assert.True(results.MoveNext(), "no first result");
        var afterFirst = GC.GetTotalMemory(forceFullCollection: true);
        var read = 1;
        while (results.MoveNext())
        {
            Assert.True(results.Current.IsSuccess, results.Current.Error);
            read++;
        }

        var retained = GC.GetTotalMemory(forceFullCollection: true) - afterFirst;

        Assert.Equal(lines, read);
        Assert.True(retained < 16L * 1024 * 1024, $"the reader kept {retained / (1024 * 1024)} MiB after {lines} lines");
        GC.KeepAlive(results);
    }

    [Fact]
    public void Read_LongIdRepeated_StillRefused()
    {
        var id = new string('y', 100_000);
        var text = Line(id) + "\n" + Line("other") + "\n" + Line(id) + "\n";

        var results = SpectrumJsonl.Read(new StringReader(text), "repeat.jsonl").ToList();

        Assert.True(results[0].IsSuccess, results[0].Error);
        Assert.True(results[1].IsSuccess, results[1].Error);
        Assert.False(results[2].IsSuccess);
        Assert.Contains("was already used earlier in the file", results[2].Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("count")]
    [InlineData("element")]
    [InlineData("line")]
    [InlineData("anode")]
    [InlineData("repeat")]
    public void Read_HugeValueInAnError_QuotedShort(string where)
    {
        // A 1-Mi-character value was quoted whole: one bad line made a 1-MB error line in identify's output or the log.
        var big = new string('9', 1 << 20);
        var counts = Counts.Replace("[1,", "[" + big + ".5,", StringComparison.Ordinal);
        var line = where switch
        {
            "count" => Line("x").Replace(Counts, counts, StringComparison.Ordinal),
            "element" => Line("x")[..^1] + ",\"elements\":[\"" + big + "\"]}",
            "line" => Line("x")[..^1] + ",\"lines\":[\"" + big + "\"]}",
            "anode" => Line("x")[..^1] + ",\"excitation\":{\"anode\":\"" + big + "\"}}",
            _ => Line(big) + "\n" + Line(big),
        };

        var result = SpectrumJsonl.Read(new StringReader(line + "\n"), "big.jsonl").Last();

        Assert.False(result.IsSuccess);
        Assert.True(result.Problem!.Length < 300, $"the problem is {result.Problem.Length} characters long");
        Assert.Contains("...", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ControlCharactersInAValue_EscapedInTheError()
    {
        // "\u001b[2J" is a valid JSON string; quoted as read, the error cleared the operator's terminal.
        var line = Line("x")[..^1] + ",\"elements\":[\"\\u001b[2J\"]}";

        var result = Assert.Single(SpectrumJsonl.Read(new StringReader(line + "\n"), "esc.jsonl"));

        Assert.False(result.IsSuccess);
        Assert.DoesNotContain(result.Error!, char.IsControl);
        Assert.Contains("holds \"\\u001B[2J\"", result.Problem, StringComparison.Ordinal);
    }

    /// <summary>A text of <c>count</c> lines made on demand, so the test itself holds one line at a time.</summary>
    private sealed class GeneratedLines(int count, Func<int, string> line) : TextReader
    {
        private string _current = string.Empty;
        private int _position;
        private int _next;

        public override int Read(char[] buffer, int index, int count1)
        {
            if (_position == _current.Length)
            {
                if (_next == count)
                {
                    return 0;
                }

                _current = line(_next++) + "\n";
                _position = 0;
            }

            var n = Math.Min(count1, _current.Length - _position);
            _current.CopyTo(_position, buffer, index, n);
            _position += n;
            return n;
        }
    }
}
