using System.Buffers.Binary;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Inference.Tests;

/// <summary>Paths and helpers for the fixed-seed test encoder written by scripts/models/make_test_model.py.</summary>
internal static class TestModels
{
    /// <summary>Hidden width of the test MLP (make_test_model.py HIDDEN).</summary>
    public const int Hidden = 128;

    /// <summary>In-graph intensity transform scale (make_test_model.py INPUT_SCALE).</summary>
    public const double InputScale = 0.125;

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Models");

    public static string Fp32 => Path.Combine(Folder, "test-encoder.fp32.onnx");

    public static string Int8 => Path.Combine(Folder, "test-encoder.int8.onnx");

    public static string Card => Path.Combine(Folder, "test-encoder.card.json");

    /// <summary>Copies the int8 test model into <paramref name="directory"/> as m.int8.onnx with an edited copy of its card (m.card.json).</summary>
    public static string StageInt8(string directory, Action<System.Text.Json.Nodes.JsonNode> edit)
    {
        var model = Path.Combine(directory, "m.int8.onnx");
        File.Copy(Int8, model, overwrite: true);
        var card = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Card))!;
        card["files"]!["int8"]!["path"] = "m.int8.onnx";
        edit(card);
        File.WriteAllText(Path.Combine(directory, "m.card.json"), card.ToJsonString());
        return model;
    }

    public static string Bad(string name) => Path.Combine(Folder, "bad", name);

    public static float[] Weights(string name)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Folder, "weights", name + ".f32"));
        var values = new float[bytes.Length / 4];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
        }

        return values;
    }

    /// <summary>
    /// Spectrum-like raw counts on the model grid: a decaying continuum plus Gaussian peaks with Poisson-like noise,
    /// deterministic in <paramref name="seed"/> (the same family make_test_model.py calibrates on).
    /// </summary>
    public static float[] SimulatedCounts(int seed)
    {
        var random = new Random(seed);
        var counts = new float[300];
        var continuum = Math.Pow(10, 0.5 + (2 * random.NextDouble()));
        var decay = 5 + (10 * random.NextDouble());
        var peaks = Enumerable.Range(0, 1 + random.Next(7)).Select(_ => (Centre: 1 + (27 * random.NextDouble()), Height: Math.Pow(10, 1 + (3 * random.NextDouble())))).ToArray();
        for (var bin = 0; bin < counts.Length; bin++)
        {
            var energy = (bin + 0.5) * 0.1;
            var mean = continuum * Math.Exp(-energy / decay);
            foreach (var (centre, height) in peaks)
            {
                mean += height * Math.Exp(-0.5 * Math.Pow((energy - centre) / 0.07, 2));
            }

            counts[bin] = (float)Math.Max(0, Math.Round(mean + (Math.Sqrt(mean) * Gaussian(random))));
        }

        return counts;
    }

    /// <summary>A raw spectrum whose channels are exactly the model grid (offset = first bin centre, 0.1 keV/channel).</summary>
    public static RawSpectrum SimulatedRaw(int seed, double? kv = 40)
    {
        var counts = SimulatedCounts(seed);
        return new RawSpectrum
        {
            Id = $"sim-{seed}",
            Counts = counts.Select(c => (long)c).ToArray(),
            Calibration = new EnergyCalibration(0.05, 0.1, 0.0),
            Excitation = kv is null ? null : new Excitation("Rh", kv, 20),
        };
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
