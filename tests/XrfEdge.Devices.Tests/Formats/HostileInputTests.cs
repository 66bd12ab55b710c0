using System.Globalization;
using System.Text;
using XrfEdge.Devices.Formats;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Devices.Tests.Formats;

/// <summary>
/// Inputs from an adversarial review of the readers (files without line breaks, endless devices, counts that
/// overflow, calibrations in the wrong unit, files that contradict themselves): each must give one clear error
/// naming the file, in bounded memory, and never a crash or a silently wrong spectrum.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Counts(int n, Func<int, string>? value = null) =>
        string.Join('\n', Enumerable.Range(0, n).Select(value ?? (c => (c % 13).ToString(CultureInfo.InvariantCulture))));

    private static string Mca(string data, string extraHeader = "", string calibration = "<<CALIBRATION>>\nLABEL - keV\n0 0\n255 10.2\n") =>
        "<<PMCA SPECTRUM>>\nTAG - live_data\n" + extraHeader + calibration + "<<DATA>>\n" + data + "\n<<END>>\n";

    private static string Msa(string body, string header = "#XUNITS : keV\n#XPERCHAN : 0.04\n#OFFSET : 0\n") =>
        "#FORMAT : EMSA/MAS Spectral Data File\n#VERSION : 1.0\n#NPOINTS : 64\n" + header + "#SPECTRUM :\n" + body;

    private static SpectrumReadResult ReadOne(string text, string source) =>
        Assert.Single(SpectrumFileReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), source));

    private static SpectrumReadResult Fails(string text, string source, string problem)
    {
        var result = ReadOne(text, source);
        Assert.False(result.IsSuccess, "expected an error containing: " + problem);
        Assert.Contains(problem, result.Problem, StringComparison.Ordinal);
        Assert.StartsWith(source, result.Error, StringComparison.Ordinal);
        return result;
    }

    [Fact]
    public void Jsonl_LineWithoutBreakOf256MiB_ErrorInBoundedMemoryAndTheNextLineIsRead()
    {
        var good = SpectrumJsonl.ToJsonLine(new LabelledSpectrum(new RawSpectrum
        {
            Id = "after",
            Counts = new long[64],
            Calibration = new Spectra.Calibration.EnergyCalibration(0, 0.1),
        }));
        using var stream = new PatternStream(256L * 1024 * 1024, (byte)'a', Encoding.UTF8.GetBytes("\n" + good + "\n"));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var results = SpectrumFileReader.Read(stream, "blob.jsonl").ToList();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(2, results.Count);
        Assert.False(results[0].IsSuccess);
        Assert.Equal(1, results[0].LineNumber);
        Assert.Contains("line is 268435456 characters long; at most 4194304 are accepted", results[0].Problem, StringComparison.Ordinal);
        Assert.True(results[1].IsSuccess, results[1].Error);
        Assert.Equal("after", results[1].Id);

        // Reading the line whole would allocate 512 MiB (UTF-16) and then some; bounded reading keeps < 64 MiB.
        Assert.True(allocated < 64L * 1024 * 1024, $"allocated {allocated / (1024 * 1024)} MiB");
    }

    [Fact]
    public void Jsonl_EndlessStream_EachSpectrumComesAfterReadingAtMostItsLineAndTheBuffersAhead()
    {
        // identify/eval on a file larger than memory, or `producer | xrfedge identify -`: they stop at Ctrl-C between
        // spectra, which bounds their memory only if the reader yields each spectrum before reading on. An endless input
        // proves it without a clock: a reader that loaded its input first would read the stream's whole 64 MiB and fail.
        using var endless = new EndlessJsonlStream(64L * 1024 * 1024);
        using var results = SpectrumFileReader.Read(endless, "endless.jsonl").GetEnumerator();

        for (var i = 0; i < 1000; i++)
        {
            Assert.True(results.MoveNext(), $"the stream ended before spectrum {i}");
            Assert.True(results.Current.IsSuccess, results.Current.Error);
            Assert.Equal(EndlessJsonlStream.Id(i), results.Current.Id);
            // Ahead of spectrum i's line: the sniffed head (512 bytes) and the StreamReader's 64 KiB buffer, which reads at
            // most 64 KiB per call; 256 KiB leaves room for either to change without the test passing a loading reader.
            Assert.True(endless.BytesRead <= ((i + 1) * endless.LineBytes) + (256 * 1024), $"read {endless.BytesRead} bytes to yield spectrum {i} ({endless.LineBytes} bytes per line)");
        }
    }

    [Fact]
    public void Mca_EndlessUnseekableStream_StopsAtTheSizeLimit()
    {
        // Like /dev/zero or a pipe that never ends: no length to check up front.
        using var endless = new PatternStream(long.MaxValue, (byte)'7', prefix: Encoding.ASCII.GetBytes(Mca("1\n2\n").Replace("<<END>>\n", string.Empty, StringComparison.Ordinal)));

        var result = Assert.Single(SpectrumFileReader.Read(endless, "endless.mca"));

        Assert.False(result.IsSuccess);
        Assert.Contains("at most 64 MiB", result.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadAll_FileAboveTheSizeLimit_RefusedBeforeReading()
    {
        var path = Path.Combine(_dir, "huge.mca");
        using (var file = File.Create(path))
        {
            file.Write(Encoding.ASCII.GetBytes("<<PMCA SPECTRUM>>\n"));
            file.SetLength(SpectrumFileReader.MaxSingleSpectrumFileBytes + (1024 * 1024)); // sparse: costs no disk
        }

        var result = Assert.Single(SpectrumFileReader.ReadAll(path));

        Assert.False(result.IsSuccess);
        Assert.Equal($"{path}: the file is 65 MiB; a single-spectrum AmptekMca file is at most 64 MiB (16384 channels need under 1 MiB), so this is not a spectrum", result.Error);
    }

    [Fact]
    public void Mca_HeaderLineOf5MB_ErrorNamesTheLine()
    {
        var result = Fails(Mca(Counts(256), extraHeader: "DESCRIPTION - " + new string('x', 5_000_000) + "\n"), "long.mca", "line is 5000014 characters long");

        Assert.Equal(3, result.LineNumber);
    }

    [Fact]
    public void Csv_MoreRowsThanAnySpectrum_FailsAtTheFirstRowTooMany()
    {
        var text = string.Join('\n', Enumerable.Range(0, 20_000).Select(c => FormattableString.Invariant($"{c * 0.01:0.00},{c % 7}")));

        var result = Fails(text, "rows.csv", "more than 16384 channels");

        Assert.Equal(16385, result.LineNumber);
    }

    [Theory]
    [InlineData("9223372036854775807", "count of channel 0 is 9223372036854775807, above 2^53")]
    [InlineData("1e300", "count of channel 0 is 1e300, above 2^53")]
    [InlineData("9007199254740993", "above 2^53")]
    public void Mca_CountAbove2To53_Rejected(string count, string problem) =>
        Fails(Mca(count + "\n" + Counts(255)), "big.mca", problem);

    [Fact]
    public void Mca_CountsWhoseTotalPasses2To53_RejectedInsteadOfWrapping()
    {
        // 256 channels of 2^52: each is fine, the total (2^60) is not; summed in a long it used to wrap silently.
        Fails(Mca(Counts(256, _ => "4503599627370496")), "sum.mca", "counts add up to more than 2^53");
    }

    [Fact]
    public void Jsonl_CountAbove2To53_Rejected()
    {
        var counts = string.Join(',', Enumerable.Repeat("0", 63).Prepend("9223372036854775807"));

        Fails($"{{\"id\":\"x\",\"counts\":[{counts}],\"calibration\":{{\"offset_kev\":0,\"gain_kev_per_channel\":0.1}}}}\n", "big.jsonl", "counts add up to more than 2^53");
    }

    [Fact]
    public void Mca_CalibrationInEvLabelledKeV_RejectedAsBelowTheMinimumGain()
    {
        // 0.04 eV/channel written as keV: accepted, it put the whole spectrum into the first 0.1-keV bin.
        Fails(Mca(Counts(256), calibration: "<<CALIBRATION>>\nLABEL - keV\n0 0\n255 0.0102\n"), "unit.mca", "below the plausible minimum 0.0002");
    }

    [Fact]
    public void Mca_LiveTimeBeyondWhatATimeSpanHolds_Rejected() =>
        Fails(Mca(Counts(256), extraHeader: "LIVE_TIME - 1e300\n"), "t.mca", "LIVE_TIME 1E+300 s is not a non-negative time");

    [Fact]
    public void Mca_NulInACount_Rejected() =>
        Fails(Mca("5\0\n" + Counts(255)), "nul.mca", "count of channel 0 holds a NUL character");

    [Fact]
    public void Csv_NegativeFirstChannel_Rejected() =>
        Fails(string.Join('\n', Enumerable.Range(-5, 64).Select(c => FormattableString.Invariant($"{c},{c & 3}"))), "neg.csv", "first channel number -5 is not a non-negative whole number");

    [Fact]
    public void Msa_NpointsNotANumber_ErrorNamesTheNpointsLine()
    {
        var text = "#FORMAT : EMSA/MAS Spectral Data File\n#VERSION : 1.0\n#NPOINTS : NaN\n#XPERCHAN : 0.04\n#SPECTRUM :\n" + Counts(64) + "\n#ENDOFDATA :\n";

        var result = Fails(text, "n.msa", "#NPOINTS \"NaN\" is not a number");

        Assert.Equal(3, result.LineNumber);
    }

    [Fact]
    public void Msa_XyValuesOutOfOrder_Rejected()
    {
        var rows = Enumerable.Range(0, 64).Select(c => FormattableString.Invariant($"{c * 0.04:0.00}, {c % 5}")).ToArray();
        (rows[1], rows[40]) = (rows[40], rows[1]);

        Fails(Msa(string.Join('\n', rows) + "\n#ENDOFDATA :\n", "#XUNITS : keV\n#DATATYPE : XY\n"), "xy.msa", "XY data: x of channel");
    }

    [Fact]
    public void Msa_XyValuesDisagreeWithTheHeaderCalibration_Rejected()
    {
        // x says 0.01 keV/channel; #XPERCHAN says 0.04.
        var rows = string.Join('\n', Enumerable.Range(0, 64).Select(c => FormattableString.Invariant($"{c * 0.01:0.00}, {c % 5}")));

        Fails(Msa(rows + "\n#ENDOFDATA :\n", "#XUNITS : keV\n#DATATYPE : XY\n#XPERCHAN : 0.04\n#OFFSET : 0\n"), "xy.msa", "puts that channel at 0.04");
    }

    [Fact]
    public void Msa_XyValuesAtChannelStarts_AcceptedAsAWritersConvention()
    {
        // Some writers give each channel's lower edge: half a channel from the centre the header implies.
        var rows = string.Join('\n', Enumerable.Range(0, 64).Select(c => FormattableString.Invariant($"{(c * 0.04) - 0.02:0.00}, {c % 5}")));

        var result = ReadOne(Msa(rows + "\n#ENDOFDATA :\n", "#XUNITS : keV\n#DATATYPE : XY\n#XPERCHAN : 0.04\n#OFFSET : 0\n"), "edges.msa");

        Assert.True(result.IsSuccess, result.Error);
    }

    [Theory]
    [InlineData("0.001")]
    [InlineData("-5")]
    [InlineData("50000")]
    public void Msa_ImplausibleBeamKv_Rejected(string kilovolts) =>
        Fails(Msa(Counts(64) + "\n#ENDOFDATA :\n", "#XPERCHAN : 0.04\n#XUNITS : keV\n#BEAMKV -kV: " + kilovolts + "\n"), "kv.msa", "#BEAMKV: tube voltage");

    [Theory]
    [InlineData("0", null)]
    [InlineData("40", 40.0)]
    public void Msa_BeamKvZeroIsUnknown_PlausibleIsKept(string kilovolts, double? expected)
    {
        var result = ReadOne(Msa(Counts(64) + "\n#ENDOFDATA :\n", "#XPERCHAN : 0.04\n#XUNITS : keV\n#BEAMKV -kV: " + kilovolts + "\n"), "kv.msa");

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(expected, result.Spectrum!.Spectrum.Excitation?.TubeVoltageKilovolts);
    }

    [Fact]
    public void Msa_SecondSpectrumAfterEndOfData_Rejected()
    {
        var one = Msa(Counts(64) + "\n#ENDOFDATA :\n");

        var result = Fails(one + one, "twice.msa", "after #ENDOFDATA; an EMSA/MAS file holds one spectrum");

        Assert.Equal(one.Count(c => c == '\n') + 1, result.LineNumber);
    }

    [Fact]
    public void Msa_BlankLinesAfterEndOfData_Accepted() =>
        Assert.True(ReadOne(Msa(Counts(64) + "\n#ENDOFDATA :\n\n  \n"), "blank.msa").IsSuccess);

    [Theory]
    [InlineData("2\n0 abc 0.04 keV\n", "declares 2 coefficients but the next line gives 3 value(s)")]
    [InlineData("-3\n0 0.04\n", "coefficient count \"-3\" is not a whole number from 2 to 10")]
    [InlineData("2\n0 0.04 furlongs\n", "unit \"furlongs\" is not keV, eV or MeV")]
    public void Spe_McaCalWithJunk_Rejected(string mcaCal, string problem) =>
        Fails($"$SPEC_ID:\nx\n$DATA:\n0 63\n{Counts(64)}\n$MCA_CAL:\n{mcaCal}", "c.spe", problem);

    [Fact]
    public void Spe_McaCalInEv_ConvertedToKeV()
    {
        var result = ReadOne($"$SPEC_ID:\nx\n$DATA:\n0 63\n{Counts(64)}\n$MCA_CAL:\n2\n10 40 eV\n", "ev.spe");

        Assert.True(result.IsSuccess, result.Error);
        Assert.Equal(0.04, result.Spectrum!.Spectrum.Calibration.GainKeVPerChannel, 12);
        Assert.Equal(0.01, result.Spectrum.Spectrum.Calibration.OffsetKeV, 12);
    }

    [Fact]
    public void Jsonl_TubeVoltageBelow1kV_Rejected()
    {
        var counts = string.Join(',', Enumerable.Repeat("1", 64));

        Fails($"{{\"id\":\"x\",\"counts\":[{counts}],\"calibration\":{{\"offset_kev\":0,\"gain_kev_per_channel\":0.1}},\"excitation\":{{\"kv\":0.05}}}}\n", "kv.jsonl", "field \"excitation.kv\": tube voltage 0.05 kV is outside 1–200 kV");
    }

    /// <summary>A read-only stream that cannot seek: what a pipe offers the reader. Subclasses supply <c>Read(Span)</c>.</summary>
    private abstract class ReadOnlyForwardStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// A read-only, unseekable stream of <c>.jsonl</c> lines, each a 64-channel spectrum with the id <see cref="Id"/>(n),
    /// without end up to <c>limit</c> bytes, past which a read fails: a reader that loads its input fails rather than hangs.
    /// </summary>
    private sealed class EndlessJsonlStream(long limit) : ReadOnlyForwardStream
    {
        private byte[] _line = [];
        private int _offset;
        private long _next;

        public static string Id(long n) => string.Create(CultureInfo.InvariantCulture, $"s{n:D9}");

        /// <summary>Bytes of every line (the ids have one width).</summary>
        public int LineBytes { get; } = Line(0).Length;

        public long BytesRead { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            if (BytesRead >= limit)
            {
                throw new IOException($"read {BytesRead} bytes of an endless stream: the reader does not stream");
            }

            var written = 0;
            while (written < buffer.Length)
            {
                if (_offset == _line.Length)
                {
                    _line = Line(_next++);
                    _offset = 0;
                }

                var run = Math.Min(buffer.Length - written, _line.Length - _offset);
                _line.AsSpan(_offset, run).CopyTo(buffer[written..]);
                _offset += run;
                written += run;
            }

            BytesRead += written;
            return written;
        }


        private static byte[] Line(long n) => Encoding.UTF8.GetBytes(SpectrumJsonl.ToJsonLine(new LabelledSpectrum(new RawSpectrum
        {
            Id = Id(n),
            Counts = new long[64],
            Calibration = new Spectra.Calibration.EnergyCalibration(0, 0.1),
        })) + "\n");
    }

    /// <summary>A read-only, unseekable stream: <c>prefix</c>, then <c>length</c> copies of one byte, then <c>suffix</c>.</summary>
    private sealed class PatternStream(long length, byte fill, byte[]? suffix = null, byte[]? prefix = null) : ReadOnlyForwardStream
    {
        private readonly byte[] _prefix = prefix ?? [];
        private readonly byte[] _suffix = suffix ?? [];
        private long _position;

        public override int Read(Span<byte> buffer)
        {
            var written = 0;
            while (written < buffer.Length)
            {
                var p = _position;
                if (p < _prefix.Length)
                {
                    buffer[written++] = _prefix[p];
                }
                else if (p - _prefix.Length < length)
                {
                    var run = (int)Math.Min(buffer.Length - written, length - (p - _prefix.Length));
                    buffer.Slice(written, run).Fill(fill);
                    written += run;
                    _position += run;
                    continue;
                }
                else if (p - _prefix.Length - length < _suffix.Length)
                {
                    buffer[written++] = _suffix[p - _prefix.Length - length];
                }
                else
                {
                    break;
                }

                _position++;
            }

            return written;
        }

    }
}
