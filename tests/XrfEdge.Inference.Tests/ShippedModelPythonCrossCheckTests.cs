using System.Globalization;
using System.Text.Json;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Inference.Tests;

/// <summary>
/// The shipped model as the instrument runs it (RebinPlan into the encoder's input tensor, ONNX Runtime) against the
/// training side on the same spectra: <c>training/xrftrain/reference.run</c>, the numpy interpreter of the same ONNX
/// file with which xrftrain chose the card's thresholds and scored the model, fed by <c>realspectra.rebin</c>. The
/// in-graph input transform (log1p of the normalised counts, the significance map, the total-count feature) is thereby
/// checked across the C#/Python boundary, over MCA layouts and count levels, not only torch against the exported graph
/// (training/tests/test_export_quantize.py).
/// </summary>
public sealed class ShippedModelPythonCrossCheckTests
{
    private const string Script = """
        import json, sys
        import numpy as np
        import onnx
        sys.path.insert(0, sys.argv[1])
        from xrftrain import export, reference
        from xrftrain.realspectra import rebin
        d = json.load(sys.stdin)
        x = np.stack([rebin(np.asarray(c["counts"], dtype=np.float64), c["offset"], c["gain"]) for c in d["spectra"]])
        r = reference.run(onnx.load(d["model"]), {"spectrum": x})
        json.dump({"input": x.astype(float).tolist(), "lines": r[export.LINES_OUTPUT].astype(float).tolist(),
                   "elements": r[export.ELEMENTS_OUTPUT].astype(float).tolist()}, sys.stdout)
        """;

    /// <summary>Linear MCA layouts (realspectra.rebin takes no quadratic term) with totals from 1e3 to 1e7 counts.</summary>
    private static IEnumerable<(int Channels, double OffsetKeV, double GainKeVPerChannel, double TotalCounts)> Cases()
    {
        yield return (4096, -0.9553045, 0.009999, 5e6); // the NIST Bruker .msa calibration (docs/real-spectra.md)
        yield return (2048, -0.01, 0.02, 1e3);
        yield return (1024, -0.1, 0.04, 3e4);
        yield return (8192, 0.013, 0.005, 1e7);
        yield return (512, -0.25, 0.06, 2e5);
        yield return (4096, 0.0, 0.005, 1e6); // ends at 20.5 keV: zeros above, as in training's 20 keV full scales
        yield return (2048, 0.0, 0.01, 0); // no counts at all
    }

    [DebianPythonFact("onnx")]
    public void ShippedInt8_SameSpectraAsTrainingPython_SameInputAndProbabilities()
    {
        var model = Path.Combine(RepositoryRoot.Require(), "models", "xrf-line-encoder.int8.onnx");
        var cases = Cases().ToArray();
        var spectra = cases.Select((c, i) => new RawSpectrum
        {
            Id = $"case-{i}",
            Counts = Counts(c.Channels, new EnergyCalibration(c.OffsetKeV, c.GainKeVPerChannel), c.TotalCounts, seed: i),
            Calibration = new EnergyCalibration(c.OffsetKeV, c.GainKeVPerChannel),
        }).ToArray();
        var json = JsonSerializer.Serialize(new { model, spectra = spectra.Select(s => new { counts = s.Counts, offset = s.Calibration.OffsetKeV, gain = s.Calibration.GainKeVPerChannel }) });
        var python = JsonSerializer.Deserialize<PythonResult>(DebianPython.Run(Script, json, "python reference"))!;

        using var encoder = LineEncoder.Open(model);
        using var batch = encoder.Rent(spectra.Length);
        for (var row = 0; row < spectra.Length; row++)
        {
            RebinPlan.Create(spectra[row].Calibration, spectra[row].Counts.Length).Apply(spectra[row].Counts, batch.InputRow(row));
        }

        batch.Run();
        var worstLine = 0.0;
        var worstElement = 0.0;
        for (var row = 0; row < spectra.Length; row++)
        {
            var input = batch.InputRow(row);
            for (var bin = 0; bin < ModelGrid.BinCount; bin++)
            {
                // Both sides end in float32; Python's cumulative sums add a few float64 ulps of the running total.
                Assert.True(Math.Abs(input[bin] - python.Input[row][bin]) <= (2.5e-7 * Math.Abs(python.Input[row][bin])) + 0.05, Say(row, $"input bin {bin}: C# {input[bin]}, Python {python.Input[row][bin]}"));
            }

            worstLine = Math.Max(worstLine, MaxAbsDiff(batch.LineProbabilities(row), python.Lines[row]));
            worstElement = Math.Max(worstElement, MaxAbsDiff(batch.ElementProbabilities(row), python.Elements[row]));
        }

        // ORT's float32 kernels against the numpy interpreter: measured 1.2e-7 (one float32 ulp below 1) on 2026-11-24.
        // 1e-5, as NumericsTests' reference check, allows other summation orders and still catches any difference in
        // what the graph is fed (a count scaling, a half-channel shift) or in how a transform op is computed.
        Assert.True(worstLine <= 1e-5 && worstElement <= 1e-5, Say(-1, $"largest line-probability difference {worstLine}, element {worstElement}"));
    }

    private static string Say(int row, string what) => string.Create(CultureInfo.InvariantCulture, $"case {row}: {what}");

    private static double MaxAbsDiff(ReadOnlySpan<float> a, double[] b)
    {
        var worst = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
        }

        return worst;
    }

    /// <summary>
    /// A spectrum-like histogram: an exponential bremsstrahlung-like background and Gaussian peaks (130 eV FWHM) at
    /// Fe-KL3 6.404, Cu-KL3 8.048, Pb-L3M5 10.551 keV (xraylib) and an Rh Compton hump near 19 keV, scaled to
    /// <paramref name="total"/> counts with ±√n noise.
    /// </summary>
    private static long[] Counts(int channels, EnergyCalibration calibration, double total, int seed)
    {
        var random = new Random(seed);
        var shape = new double[channels];
        (double KeV, double Weight)[] peaks = [(6.404, 1.0), (8.048, 0.6), (10.551, 0.3), (19.0, 0.4)];
        for (var channel = 0; channel < channels; channel++)
        {
            var e = calibration.EnergyKeV(channel);
            var value = e > 0.5 ? 0.02 * Math.Exp(-e / 12) : 0;
            foreach (var (keV, weight) in peaks)
            {
                var sigma = 0.13 / 2.3548;
                value += weight * Math.Exp(-0.5 * Math.Pow((e - keV) / sigma, 2)) * calibration.GainKeVPerChannel / sigma;
            }

            shape[channel] = value;
        }

        var scale = total / shape.Sum();
        return [.. shape.Select(v => v * scale).Select(mean => Math.Max(0, (long)Math.Round(mean + (Math.Sqrt(mean) * ((random.NextDouble() * 2) - 1)))))];
    }

    private sealed record PythonResult(
        [property: System.Text.Json.Serialization.JsonPropertyName("input")] double[][] Input,
        [property: System.Text.Json.Serialization.JsonPropertyName("lines")] double[][] Lines,
        [property: System.Text.Json.Serialization.JsonPropertyName("elements")] double[][] Elements);
}
