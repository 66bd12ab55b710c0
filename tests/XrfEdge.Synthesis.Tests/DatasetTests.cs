using System.Text.Json;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Interchange;
using XrfEdge.Spectra.Rebinning;
using XrfEdge.Synthesis.Datasets;

namespace XrfEdge.Synthesis.Tests;

public sealed class DatasetTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "xrfedge-synth-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static (string Descr, int[] Shape, byte[] Data) ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0x93, bytes[0]);
        Assert.Equal("NUMPY", System.Text.Encoding.ASCII.GetString(bytes, 1, 5));
        Assert.Equal(1, bytes[6]);
        var headerLength = bytes[8] | (bytes[9] << 8);
        Assert.Equal(0, (10 + headerLength) % 64); // data aligned to 64 bytes (numpy.lib.format)
        var header = System.Text.Encoding.ASCII.GetString(bytes, 10, headerLength);
        var descr = header.Split("'descr': '")[1].Split('\'')[0];
        var shape = header.Split("'shape': (")[1].Split(')')[0].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        Assert.Contains("'fortran_order': False", header, StringComparison.Ordinal);
        return (descr, shape, bytes[(10 + headerLength)..]);
    }

    [Fact]
    public void Write_Npy_ContractShapesTypesAndValues()
    {
        const int n = 37;
        var g = new SpectrumGenerator(GeneratorProfiles.Load("randomized"), 8);
        NpyDatasetWriter.Write(g, n, _dir, threads: 2);
        var x = ReadNpy(Path.Combine(_dir, "x.npy"));
        Assert.Equal("<f4", x.Descr);
        Assert.Equal([n, 300], x.Shape);
        foreach (var (file, cols) in new[] { ("y_lines", 556), ("y_elements", 41), ("y_lines_paper", 556), ("y_elements_in_sample", 41), ("y_elements_ignore", 41) })
        {
            var y = ReadNpy(Path.Combine(_dir, file + ".npy"));
            Assert.Equal("|u1", y.Descr);
            Assert.Equal([n, cols], y.Shape);
            Assert.All(y.Data, b => Assert.True(b <= 1));
        }

        var kv = ReadNpy(Path.Combine(_dir, "tube_kv.npy"));
        Assert.Equal([n], kv.Shape);

        // Row 5 equals the service preprocessing of spectrum 5 and its labels.
        var s = g.Generate(5);
        var expected = ModelInput.From(s.Spectrum).Values;
        var row = new float[300];
        Buffer.BlockCopy(x.Data, 5 * 300 * 4, row, 0, 300 * 4);
        Assert.Equal(expected, row);
        var lines = ReadNpy(Path.Combine(_dir, "y_lines.npy")).Data.AsSpan(5 * 556, 556).ToArray();
        Assert.Equal(s.Lines.Order(), LineCatalog.Default.Lines.Where(l => lines[l.Index] == 1).Select(l => l.Name).Order());
        var ignore = ReadNpy(Path.Combine(_dir, "y_elements_ignore.npy")).Data.AsSpan(5 * 41, 41).ToArray();
        Assert.Equal(s.IgnoreElements, LineCatalog.Default.Elements.Where(e => ignore[e.Index] == 1).Select(e => e.Symbol));
        Assert.Equal((float)s.Conditions.TubeVoltageKilovolts, BitConverter.ToSingle(kv.Data, 5 * 4));

        // The anode, so that the Python reference can replay the Decoder, which never reports a named anode.
        var anode = ReadNpy(Path.Combine(_dir, "anode.npy"));
        Assert.Equal("|i1", anode.Descr);
        Assert.Equal([n], anode.Shape);
        Assert.Equal(LineCatalog.Default.ElementIndex(s.Spectrum.Excitation!.Anode!), (sbyte)anode.Data[5]);
        Assert.All(anode.Data, b => Assert.InRange((sbyte)b, -1, LineCatalog.Default.Elements.Count - 1));

        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "meta.json")));
        var root = meta.RootElement;
        Assert.Equal(SpectrumGenerator.Version, root.GetProperty("generator_version").GetString());
        Assert.Equal("randomized", root.GetProperty("profile").GetString());
        Assert.Equal(8UL, root.GetProperty("seed").GetUInt64());
        Assert.Equal(n, root.GetProperty("count").GetInt64());
        Assert.Equal(LineCatalog.Default.Hash, root.GetProperty("catalog_hash").GetString());
        Assert.Equal(ModelInput.PreprocessingId, root.GetProperty("preprocessing").GetString());
        Assert.True(root.TryGetProperty("created_utc", out _));
    }

    [Fact]
    public void Write_Npy_OneThreadAndThreeThreads_ByteIdentical()
    {
        // Batches smaller than the count exercise the streaming path: 2 × 2048 + 100.
        const int n = (2 * NpyDatasetWriter.BatchSize) + 100;
        var g = new SpectrumGenerator(GeneratorProfiles.Load("macro-xrf"), 21);
        NpyDatasetWriter.Write(g, n, Path.Combine(_dir, "one"), threads: 1);
        NpyDatasetWriter.Write(g, n, Path.Combine(_dir, "three"), threads: 3);
        foreach (var file in new[] { "x.npy", "y_lines.npy", "y_elements.npy", "y_lines_paper.npy", "y_elements_in_sample.npy", "y_elements_ignore.npy", "tube_kv.npy", "anode.npy", "line_net.npy", "line_background.npy" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "one", file)), File.ReadAllBytes(Path.Combine(_dir, "three", file)));
        }
    }

    private static readonly string[] NpyFiles = ["x.npy", "y_lines.npy", "y_elements.npy", "y_lines_paper.npy", "y_elements_in_sample.npy", "y_elements_ignore.npy", "tube_kv.npy", "anode.npy", "line_net.npy", "line_background.npy"];

    [Fact]
    public void Write_Npy_CancelledOverAnEarlierSet_LeavesTheEarlierSetWhole()
    {
        // A complete 5-spectrum set, then a run of another seed into the same folder that stops before its first batch.
        // The arrays were opened under their own names first: a cancelled, failed or killed run (Ctrl-C, a full disk) left
        // arrays whose headers claimed 3000 rows over no data (tube_kv.npy and anode.npy 0 bytes after a SIGINT at 10,000
        // of 40,000), and had already destroyed the earlier set. Since 2026-11-24 they are written as NAME.partial and moved
        // into place only when complete, as the jsonl writer does.
        NpyDatasetWriter.Write(new SpectrumGenerator(GeneratorProfiles.Load("handheld-pin"), 8), 5, _dir, threads: 1);
        var before = NpyFiles.Append("meta.json").ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(_dir, f)));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            NpyDatasetWriter.Write(new SpectrumGenerator(GeneratorProfiles.Load("handheld-pin"), 9), 3000, _dir, threads: 1, cancellationToken: cancelled.Token));

        foreach (var (file, bytes) in before)
        {
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(_dir, file)));
        }

        Assert.Empty(Directory.GetFiles(_dir, "*.partial"));
    }

    [Fact]
    public void Write_Npy_FailsPartWay_LeavesNoArrayClaimingRowsItLacks()
    {
        // A failure after the first batch (here the progress callback throws; a full disk or Ctrl-C did the same): no
        // file under an array's name may remain whose header promises rows that were never written.
        var target = Path.Combine(_dir, "fresh");

        Assert.Throws<IOException>(() => NpyDatasetWriter.Write(
            new SpectrumGenerator(GeneratorProfiles.Load("handheld-pin"), 9), NpyDatasetWriter.BatchSize + 1, target, threads: 2, new ThrowingProgress()));

        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public void Write_Npy_MoreThanTheDiskHolds_RefusedBeforeAnyFileIsWritten()
    {
        // 10^15 spectra × 6,888 bytes ≈ 7 EB: more than any disk. The writer started anyway and filled the disk (or ran
        // for ever), every header claiming 10^15 rows; since 2026-11-24 it checks the free space first.
        var target = Path.Combine(_dir, "huge");

        var error = Assert.Throws<IOException>(() => NpyDatasetWriter.Write(
            new SpectrumGenerator(GeneratorProfiles.Load("handheld-pin"), 9), 1_000_000_000_000_000, target, threads: 1));

        Assert.Contains(target, error.Message, StringComparison.Ordinal);
        Assert.Contains("free", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(target));
    }

    [Fact]
    public void Write_Npy_OverTheLeftoversOfAKilledRun_CountsTheirSpaceAsFree()
    {
        // A run killed before its clean-up (SIGKILL, power loss) leaves its NAME.npy.partial files; the rerun that
        // docs/synthesis.md prescribes truncates them first. With a disk whose free space (a stand-in) plus those
        // leftovers just holds the set, the rerun was refused until 2026-11-24 ("only … are free").
        const long count = 5;
        Directory.CreateDirectory(_dir);
        var leftover = new byte[4096];
        foreach (var file in NpyFiles)
        {
            File.WriteAllBytes(Path.Combine(_dir, file + ".partial"), leftover);
        }

        long leftoverBytes = NpyFiles.Length * (long)leftover.Length;
        long free = NpyDatasetWriter.RequiredBytes(count) - leftoverBytes;

        NpyDatasetWriter.Write(new SpectrumGenerator(GeneratorProfiles.Load("handheld-pin"), 9), count, _dir, threads: 1, progress: null, availableBytes: _ => free, CancellationToken.None);

        Assert.Equal(count, ReadNpy(Path.Combine(_dir, "x.npy")).Shape[0]);
        Assert.Empty(Directory.GetFiles(_dir, "*.partial"));
    }

    [Fact]
    public void Write_Npy_OneByteShortEvenWithTheLeftovers_Refused()
    {
        // The other side of the count above: leftovers count once, and a byte less is still refused.
        const long count = 5;
        Directory.CreateDirectory(_dir);
        File.WriteAllBytes(Path.Combine(_dir, "x.npy.partial"), new byte[4096]);
        long free = NpyDatasetWriter.RequiredBytes(count) - 4096 - 1;

        var error = Assert.Throws<IOException>(() => NpyDatasetWriter.Write(
            new SpectrumGenerator(GeneratorProfiles.Load("handheld-pin"), 9), count, _dir, threads: 1, progress: null, availableBytes: _ => free, CancellationToken.None));

        Assert.Contains("free", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "x.npy")));
    }

    [Fact]
    public void Write_Jsonl_MoreThanTheDiskHolds_RefusedBeforeAnyFileIsWritten()
    {
        // At least 2 bytes ("0,") per channel of the profile's smallest MCA: 10^15 spectra cannot fit on any disk.
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "huge.jsonl");

        var error = Assert.Throws<IOException>(() => JsonlDatasetWriter.Write(
            new SpectrumGenerator(GeneratorProfiles.Load("handheld-pin"), 9), 1_000_000_000_000_000, path, threads: 1));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Write_Npy_PrefixOfALargerSet_SameRows()
    {
        // training/make_model.sh draws its threshold set as a larger set of the validation seed and relies on its first
        // rows being the validation set; batches (2048) and threads must not change a row.
        const int small = 5, large = NpyDatasetWriter.BatchSize + 3;
        var g = new SpectrumGenerator(GeneratorProfiles.Load("handheld-sdd"), 2002);
        NpyDatasetWriter.Write(g, small, Path.Combine(_dir, "small"), threads: 1);
        NpyDatasetWriter.Write(g, large, Path.Combine(_dir, "large"), threads: 2);
        foreach (var file in NpyFiles)
        {
            var a = ReadNpy(Path.Combine(_dir, "small", file));
            var b = ReadNpy(Path.Combine(_dir, "large", file));
            Assert.Equal(small, a.Shape[0]);
            Assert.Equal(large, b.Shape[0]);
            Assert.Equal(a.Data, b.Data[..a.Data.Length]);
        }
    }

    [Fact]
    public void Write_Jsonl_OneThreadAndThreeThreads_ByteIdentical()
    {
        // Two batches of 256 and a part: the records are written in index order whatever thread made them.
        const int n = (2 * JsonlDatasetWriter.BatchSize) + 7;
        var g = new SpectrumGenerator(GeneratorProfiles.Load("handheld-pin"), 1001);
        Directory.CreateDirectory(_dir);
        JsonlDatasetWriter.Write(g, n, Path.Combine(_dir, "one.jsonl"), threads: 1);
        JsonlDatasetWriter.Write(g, n, Path.Combine(_dir, "three.jsonl"), threads: 3);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "one.jsonl")), File.ReadAllBytes(Path.Combine(_dir, "three.jsonl")));
    }

    private sealed class ThrowingProgress : IProgress<long>
    {
        public void Report(long value) => throw new IOException("simulated: no space left on device");
    }

    [Fact]
    public void Write_Jsonl_CancelledOverAnEarlierFile_LeavesItWhole()
    {
        // The file was opened with FileMode.Create first: a cancelled or failed run emptied the earlier file, and one that
        // stopped part-way left fewer lines that each read as a valid spectrum.
        Directory.CreateDirectory(_dir);
        var path = Path.Combine(_dir, "set.jsonl");
        JsonlDatasetWriter.Write(new SpectrumGenerator(GeneratorProfiles.Load("handheld-pin"), 8), 3, path, threads: 1);
        var before = File.ReadAllBytes(path);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            JsonlDatasetWriter.Write(new SpectrumGenerator(GeneratorProfiles.Load("handheld-pin"), 9), 600, path, threads: 1, cancellationToken: cancelled.Token));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public void Write_Npy_LineCounts_ReproduceTheLabels()
    {
        // line_net/line_background are what training thins to recompute labels at fewer counts: at full counts the
        // Currie rule on them must give back y_lines exactly, and absent lines must have no net counts.
        const int n = 300;
        var g = new SpectrumGenerator(GeneratorProfiles.Load("randomized"), 17) { LabelSystematicFraction = 0.02 };
        NpyDatasetWriter.Write(g, n, _dir, threads: 2);
        var net = ReadNpy(Path.Combine(_dir, "line_net.npy"));
        var background = ReadNpy(Path.Combine(_dir, "line_background.npy"));
        Assert.Equal("<f4", net.Descr);
        Assert.Equal([n, 556], net.Shape);
        Assert.Equal([n, 556], background.Shape);
        var lines = ReadNpy(Path.Combine(_dir, "y_lines.npy")).Data;
        var inSample = ReadNpy(Path.Combine(_dir, "y_elements_in_sample.npy")).Data;
        var ignore = ReadNpy(Path.Combine(_dir, "y_elements_ignore.npy")).Data;
        var catalog = LineCatalog.Default;
        int positives = 0, absentWithBackground = 0;
        for (var r = 0; r < n; r++)
        {
            foreach (var line in catalog.Lines)
            {
                var k = (r * 556) + line.Index;
                var own = (double)BitConverter.ToSingle(net.Data, k * 4);
                var b = (double)BitConverter.ToSingle(background.Data, k * 4);
                Assert.True(own >= 0 && b >= 0, $"row {r} {line.Name}: net {own}, background {b}");
                var element = (r * 41) + catalog.ElementIndex(line.Element);
                var sys = 0.02 * b;
                var detectable = own >= 2.71 + (4.65 * Math.Sqrt(b + (sys * sys)));
                Assert.True(detectable == (lines[k] == 1), $"row {r} {line.Name}: net {own}, background {b}, label {lines[k]}");
                positives += lines[k];
                if (inSample[element] == 0 && ignore[element] == 0)
                {
                    // Neither in the sample nor the anode/Ar: nothing of its own in any window.
                    Assert.Equal(0, own);
                    absentWithBackground += b > 0 ? 1 : 0;
                }
            }
        }

        Assert.True(positives > n, $"only {positives} detectable lines in {n} spectra");
        Assert.True(absentWithBackground > n * 100, $"only {absentWithBackground} absent lines carry a background");
    }

    [Fact]
    public void Write_Jsonl_ReadsBackWithLabels()
    {
        var g = new SpectrumGenerator(GeneratorProfiles.Load("handheld-sdd"), 4);
        var path = Path.Combine(_dir, "s.jsonl");
        JsonlDatasetWriter.Write(g, 12, path, threads: 2);
        var read = SpectrumJsonl.ReadFile(path).ToArray();
        Assert.Equal(12, read.Length);
        for (var i = 0; i < read.Length; i++)
        {
            var expected = g.Generate(i);
            var got = read[i].Spectrum!;
            Assert.Equal(expected.Spectrum.Id, got.Spectrum.Id);
            Assert.Equal(expected.Spectrum.Counts, got.Spectrum.Counts);
            Assert.Equal(expected.Lines, got.Lines);
            Assert.Equal(expected.ElementsInSample, got.ElementsInSample);
            Assert.Equal(expected.IgnoreElements, got.IgnoreElements);
            Assert.Equal("Rh", got.Spectrum.Excitation!.Anode);
        }
    }

    [Fact]
    public void ToSvg_Spectrum_MarksDetectedLines()
    {
        var s = new SpectrumGenerator(TestProfiles.Fixed("Cu"), 1).Generate(0);
        var svg = SpectrumPlot.ToSvg(s);
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Contains("Cu-KL3", svg, StringComparison.Ordinal);
        Assert.Contains("<polyline", svg, StringComparison.Ordinal);
    }
}
