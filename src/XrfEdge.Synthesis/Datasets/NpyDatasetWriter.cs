using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using XrfEdge.Spectra.Catalog;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Synthesis.Datasets;

/// <summary>
/// Writes a training set in the agreed npy layout (common brief, "Training set"): <c>x.npy</c> float32 [N,300]
/// (model input: the C# <see cref="Rebinner"/> output of each raw spectrum with its <em>reported</em> calibration, as
/// <see cref="ModelInput"/> computes it), <c>y_lines.npy</c> uint8 [N,556], <c>y_elements.npy</c> uint8 [N,41],
/// <c>y_lines_paper.npy</c> uint8 [N,556], <c>y_elements_in_sample.npy</c> uint8 [N,41],
/// <c>y_elements_ignore.npy</c> uint8 [N,41], <c>tube_kv.npy</c> float32 [N], <c>anode.npy</c> int8 [N] (the tube
/// anode's catalogue element index, −1 for an anode outside the catalogue such as W: the Decoder never reports a named
/// anode, and training/xrftrain/metrics.py needs it to score what <c>xrfedge eval</c> scores), <c>line_net.npy</c> and
/// <c>line_background.npy</c> float32 [N,556] (each line's expected net and background counts in its label window, from
/// which the labels follow: training thins counts and recomputes them), and <c>meta.json</c>.
/// Spectra are generated in parallel batches and streamed to disk, so memory stays bounded (one batch) for any N,
/// and the files are byte-identical for any thread count.
/// </summary>
public static class NpyDatasetWriter
{
    /// <summary>Spectra per batch: bounds memory at about 14 MB of buffers (9 MB of them the two line-count arrays).</summary>
    public const int BatchSize = 2048;

    /// <summary>Bytes one spectrum adds to the arrays: x 300 × 4, y_lines and y_lines_paper 2 × 556, the three element
    /// arrays 3 × 41, tube_kv 4, anode 1, line_net and line_background 2 × 556 × 4: 6,888 with the shipped catalogue.</summary>
    public static long BytesPerSpectrum => (ModelGrid.BinCount * 4) + (LineCatalog.Default.Lines.Count * (2 + 8)) + (LineCatalog.Default.Elements.Count * 3) + 4 + 1;

    private static readonly string[] ArrayNames =
        ["x", "y_lines", "y_elements", "y_lines_paper", "y_elements_in_sample", "y_elements_ignore", "tube_kv", "anode", "line_net", "line_background"];

    /// <summary>
    /// Disk space a set of <paramref name="count"/> spectra needs: the arrays with their 128-byte headers and 64 KB for
    /// meta.json (about 10 KB); <see cref="long.MaxValue"/> when that does not fit in a long.
    /// </summary>
    public static long RequiredBytes(long count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 0);
        // Per array a header (NpyFormat pads it to a multiple of 64 bytes; these dicts come to 128), plus meta.json.
        const long HeaderBytesPerArray = 128;
        const long MetaJsonBytes = 64 * 1024;
        long fixedBytes = (ArrayNames.Length * HeaderBytesPerArray) + MetaJsonBytes;
        var perSpectrum = BytesPerSpectrum;
        return count > (long.MaxValue - fixedBytes) / perSpectrum ? long.MaxValue : (count * perSpectrum) + fixedBytes;
    }

    /// <summary>Generates <paramref name="count"/> spectra (indices 0 … count − 1) into <paramref name="directory"/>.</summary>
    /// <param name="generator">The generator (profile + seed).</param>
    /// <param name="count">Number of spectra, ≥ 1.</param>
    /// <param name="directory">Output folder, created if missing. Each array is written as <c>NAME.npy.partial</c>; only
    /// when all are complete and flushed are the earlier meta.json removed, the arrays moved over their names and the new
    /// meta.json written (atomically). A run that fails or is cancelled removes its partial files and leaves an earlier
    /// set in the folder as it was.</param>
    /// <param name="threads">Worker threads; null = all cores.</param>
    /// <param name="progress">Receives the number of spectra written after each batch.</param>
    /// <param name="cancellationToken">Stops between spectra.</param>
    /// <returns>Elapsed time and spectra per second.</returns>
    /// <exception cref="IOException">The folder cannot be written, or its disk has less free space than
    /// <see cref="RequiredBytes"/> (checked before any file is written).</exception>
    public static DatasetSummary Write(
        SpectrumGenerator generator,
        long count,
        string directory,
        int? threads = null,
        IProgress<long>? progress = null,
        CancellationToken cancellationToken = default) =>
        Write(generator, count, directory, threads, progress, availableBytes: null, cancellationToken);

    /// <summary><see cref="Write(SpectrumGenerator, long, string, int?, IProgress{long}?, CancellationToken)"/> with the
    /// free space of a folder's disk from <paramref name="availableBytes"/> (null: the disk's own).</summary>
    internal static DatasetSummary Write(
        SpectrumGenerator generator,
        long count,
        string directory,
        int? threads,
        IProgress<long>? progress,
        Func<string, long>? availableBytes,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        Directory.CreateDirectory(directory);
        // The new set is written beside an earlier one (which stays whole until this set is complete), so the whole of it
        // must fit in what is free now. Without this check a mistyped --count wrote until the disk was full, under headers
        // that claimed every row.
        var partials = ArrayNames.Select(name => Path.Combine(directory, name + ".npy.partial")).ToArray();
        DiskSpace.EnsureFree(directory, directory, RequiredBytes(count), count, partials, availableBytes);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            WriteArrays(generator, count, partials, threads, progress, cancellationToken);
        }
        catch
        {
            foreach (var partial in partials)
            {
                DiskSpace.TryDelete(partial);
            }

            throw;
        }

        stopwatch.Stop();
        // meta.json says the arrays beside it are the set it describes (training/make_model.sh reuses a folder on that
        // word): it goes first, and the new one is written last.
        var metaPath = Path.Combine(directory, "meta.json");
        File.Delete(metaPath);
        for (var i = 0; i < ArrayNames.Length; i++)
        {
            File.Move(partials[i], Path.Combine(directory, ArrayNames[i] + ".npy"), overwrite: true);
        }

        var partialMeta = metaPath + ".partial";
        WriteMeta(partialMeta, generator, count, LineCatalog.Default);
        File.Move(partialMeta, metaPath, overwrite: true);
        return new DatasetSummary(count, stopwatch.Elapsed);
    }

    private static void WriteArrays(SpectrumGenerator generator, long count, string[] paths, int? threads, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var catalog = LineCatalog.Default;
        var lineCount = catalog.Lines.Count;
        var elementCount = catalog.Elements.Count;
        using var x = Open(paths[0], "<f4", count, ModelGrid.BinCount);
        using var yLines = Open(paths[1], "|u1", count, lineCount);
        using var yElements = Open(paths[2], "|u1", count, elementCount);
        using var yPaper = Open(paths[3], "|u1", count, lineCount);
        using var yInSample = Open(paths[4], "|u1", count, elementCount);
        using var yIgnore = Open(paths[5], "|u1", count, elementCount);
        using var kv = Open(paths[6], "<f4", count, null);
        using var anodeFile = Open(paths[7], "|i1", count, null);
        using var lineNet = Open(paths[8], "<f4", count, lineCount);
        using var lineBackground = Open(paths[9], "<f4", count, lineCount);

        var batch = (int)Math.Min(BatchSize, count);
        var xs = new float[batch * ModelGrid.BinCount];
        var lines = new byte[batch * lineCount];
        var elements = new byte[batch * elementCount];
        var paper = new byte[batch * lineCount];
        var inSample = new byte[batch * elementCount];
        var ignore = new byte[batch * elementCount];
        var kvs = new float[batch];
        var anodes = new byte[batch];
        var nets = new float[batch * lineCount];
        var backgrounds = new float[batch * lineCount];
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads ?? Environment.ProcessorCount, CancellationToken = cancellationToken };

        for (long start = 0; start < count; start += batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var size = (int)Math.Min(batch, count - start);
            var first = start;
            Parallel.For(
                0,
                size,
                options,
                () => (Workspace: generator.Rent(), Scratch: new double[ModelGrid.BinCount]),
                (i, _, local) =>
                {
                    var ws = local.Workspace;
                    generator.Simulate(first + i, ws);
                    Rebinner.Rebin(ws.Counts.AsSpan(0, ws.ChannelCount), ws.ReportedCalibration, local.Scratch);
                    var row = xs.AsSpan(i * ModelGrid.BinCount, ModelGrid.BinCount);
                    for (var b = 0; b < ModelGrid.BinCount; b++)
                    {
                        row[b] = (float)local.Scratch[b];
                    }

                    ws.Lines.CopyTo(lines.AsSpan(i * lineCount));
                    ws.PaperLines.CopyTo(paper.AsSpan(i * lineCount));
                    ws.Elements.CopyTo(elements.AsSpan(i * elementCount));
                    ws.ElementsInSample.CopyTo(inSample.AsSpan(i * elementCount));
                    ws.IgnoreElements.CopyTo(ignore.AsSpan(i * elementCount));
                    kvs[i] = (float)ws.TubeVoltageKilovolts;
                    anodes[i] = unchecked((byte)(sbyte)catalog.ElementIndex(ws.Anode));
                    ws.LineNet.CopyTo(nets.AsSpan(i * lineCount));
                    ws.LineBackground.CopyTo(backgrounds.AsSpan(i * lineCount));
                    return local;
                },
                local => generator.Return(local.Workspace));

            WriteFloats(x, xs.AsSpan(0, size * ModelGrid.BinCount));
            yLines.Write(lines, 0, size * lineCount);
            yElements.Write(elements, 0, size * elementCount);
            yPaper.Write(paper, 0, size * lineCount);
            yInSample.Write(inSample, 0, size * elementCount);
            yIgnore.Write(ignore, 0, size * elementCount);
            WriteFloats(kv, kvs.AsSpan(0, size));
            anodeFile.Write(anodes, 0, size);
            WriteFloats(lineNet, nets.AsSpan(0, size * lineCount));
            WriteFloats(lineBackground, backgrounds.AsSpan(0, size * lineCount));
            progress?.Report(start + size);
        }

        foreach (var stream in new[] { x, yLines, yElements, yPaper, yInSample, yIgnore, kv, anodeFile, lineNet, lineBackground })
        {
            stream.Flush(flushToDisk: true);
        }
    }

    private static FileStream Open(string path, string descr, long rows, int? columns)
    {
        var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        stream.Write(NpyFormat.Header(descr, rows, columns));
        return stream;
    }

    private static void WriteFloats(Stream stream, Span<float> values)
    {
        // The format is little-endian ('<f4'); every target of this product (x64, arm64) is too.
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("npy datasets are written little-endian and this machine is big-endian");
        }

        stream.Write(MemoryMarshal.AsBytes(values));
    }

    private static void WriteMeta(string path, SpectrumGenerator generator, long count, LineCatalog catalog)
    {
        using var stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteString("schema", "xrfedge-synth-npy/1");
        writer.WriteString("generator_version", SpectrumGenerator.Version);
        writer.WriteString("profile", generator.Profile.Name);
        writer.WriteNumber("seed", generator.Seed);
        writer.WriteNumber("count", count);
        writer.WriteNumber("label_systematic_fraction", generator.LabelSystematicFraction);
        writer.WriteString("catalog_hash", catalog.Hash);
        writer.WriteString("preprocessing", ModelInput.PreprocessingId);
        writer.WriteString("created_utc", DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        writer.WriteStartObject("files");
        writer.WriteString("x", "x.npy float32 [N,300] counts per 0.1-keV bin (ModelInput)");
        writer.WriteString("y_lines", "y_lines.npy uint8 [N,556] detectable lines (Currie L_D), catalogue order");
        writer.WriteString("y_elements", "y_elements.npy uint8 [N,41] detectable elements, LineCatalog.Elements order");
        writer.WriteString("y_lines_paper", "y_lines_paper.npy uint8 [N,556] every line of every element in the sample");
        writer.WriteString("y_elements_in_sample", "y_elements_in_sample.npy uint8 [N,41] composition");
        writer.WriteString("y_elements_ignore", "y_elements_ignore.npy uint8 [N,41] left out of scoring: anode, Ar, undetectable");
        writer.WriteString("tube_kv", "tube_kv.npy float32 [N] tube voltage, kV");
        writer.WriteString("anode", "anode.npy int8 [N] tube anode, LineCatalog.Elements index; -1 = not a catalogue element (W)");
        writer.WriteString("line_net", "line_net.npy float32 [N,556] expected net counts of each line in its label window");
        writer.WriteString("line_background", "line_background.npy float32 [N,556] expected other counts in that window; y_lines = net >= 2.71 + 4.65*sqrt(B + (eps*B)^2)");
        writer.WriteEndObject();
        writer.WritePropertyName("profile_definition");
        writer.WriteRawValue(GeneratorProfiles.ToJson(generator.Profile));
        writer.WriteEndObject();
    }
}
