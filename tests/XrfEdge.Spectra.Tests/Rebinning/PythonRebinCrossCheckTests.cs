using System.Globalization;
using System.Text.Json;
using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Rebinning;

namespace XrfEdge.Spectra.Tests.Rebinning;

/// <summary>
/// The C# Rebinner (what the instrument and the training-set export feed the model) against the training side's own
/// Python rebin, <c>training/xrftrain/realspectra.rebin</c> (cumulative counts interpolated at the grid edges, which the
/// training loop's real-spectra check feeds the model): both must give the same model input for the same spectrum.
/// </summary>
public sealed class PythonRebinCrossCheckTests
{
    private const string Script = """
        import json, sys
        import numpy as np
        sys.path.insert(0, sys.argv[1])
        from xrftrain.realspectra import rebin
        cases = json.load(sys.stdin)
        json.dump([rebin(np.asarray(c["counts"], dtype=np.float64), c["offset"], c["gain"]).astype(float).tolist() for c in cases], sys.stdout)
        """;

    /// <summary>Linear calibrations an instrument can have (realspectra.rebin takes no quadratic term).</summary>
    private static IEnumerable<(int Channels, double OffsetKeV, double GainKeVPerChannel)> Calibrations()
    {
        yield return (2048, -0.9553045, 0.01); // the NIST Bruker .msa calibration (docs/real-spectra.md)
        yield return (4096, 0.0, 0.005); // ends at 20.5 keV: the grid above it stays empty on both sides
        yield return (1024, 0.05, 0.1); // exactly the model grid
        yield return (64, -0.3, 0.5); // coarse: every channel straddles several bins; ends beyond 30 keV
        yield return (16384, -0.01, 0.0019); // fine: ~53 channels per bin, 31 keV full scale
        yield return (8192, 0.013, 0.00733); // no edge on the grid
        yield return (300, 29.0, 0.03); // straddles 30 keV: most counts outside
        // The brief's MCA layouts (2026-11-24 review): 10, 40, 5 and 60 eV per channel, first channels below 0 keV.
        yield return (4096, -0.02, 0.01);
        yield return (1024, -0.1, 0.04);
        yield return (8192, -0.013, 0.005);
        yield return (512, -0.25, 0.06);
    }

    /// <summary>Counts of one test spectrum: sparse, some large; with <paramref name="nearUInt32Max"/>, every channel near 2^32 − 1 (a saturated 32-bit MCA).</summary>
    private static long[] TestCounts(Random random, int channels, bool nearUInt32Max) =>
        Enumerable.Range(0, channels)
            .Select(_ => nearUInt32Max ? uint.MaxValue - random.NextInt64(0, 1000) : random.Next(4) == 0 ? random.NextInt64(0, 1_000_000) : random.Next(0, 30))
            .ToArray();

    [DebianPythonFact("numpy")]
    public void Rebin_SameSpectraAsTrainingPython_SameModelInput()
    {
        var random = new Random(20261123);
        var spectra = Calibrations()
            .Select(c => (Counts: TestCounts(random, c.Channels, nearUInt32Max: false), c.OffsetKeV, c.GainKeVPerChannel))
            .ToArray();
        var python = RunPython(JsonSerializer.Serialize(spectra.Select(s => new { counts = s.Counts, offset = s.OffsetKeV, gain = s.GainKeVPerChannel })));

        Assert.Equal(spectra.Length, python.Length);
        for (var i = 0; i < spectra.Length; i++)
        {
            var expected = new double[ModelGrid.BinCount];
            Rebinner.Rebin(spectra[i].Counts, new EnergyCalibration(spectra[i].OffsetKeV, spectra[i].GainKeVPerChannel), expected);
            Assert.Equal(ModelGrid.BinCount, python[i].Length);
            for (var bin = 0; bin < ModelGrid.BinCount; bin++)
            {
                // Python returns float32 and sums a cumulative count (up to ~2e9) before differencing: its error is a few
                // float64 ulps of the running total, far below one count; 1e-6 relative is float32's resolution.
                var tolerance = 1e-6 * Math.Max(1.0, Math.Abs(expected[bin])) + 1e-3;
                Assert.True(
                    Math.Abs(python[i][bin] - expected[bin]) <= tolerance,
                    string.Create(CultureInfo.InvariantCulture, $"spectrum {i} ({spectra[i].Counts.Length} channels, {spectra[i].OffsetKeV} + {spectra[i].GainKeVPerChannel}·ch keV), bin {bin}: C# {expected[bin]}, Python {python[i][bin]}"));
            }
        }
    }

    /// <summary>
    /// The inference path (<see cref="RebinPlan"/>, float32 straight into the encoder's input, as SpectrumIdentifier
    /// does) against the same Python rebin; until 2026-11-24 only <see cref="Rebinner"/> was cross-checked, and
    /// RebinPlan only against Rebinner. Also at counts near 2^32 in every channel, where the cumulative sums reach ~3.5e13.
    /// </summary>
    [DebianPythonFact("numpy")]
    public void RebinPlan_SameSpectraAsTrainingPython_SameModelInput()
    {
        var random = new Random(20261124);
        var spectra = Calibrations()
            .SelectMany(c => new[] { false, true }.Select(high => (Counts: TestCounts(random, c.Channels, high), c.OffsetKeV, c.GainKeVPerChannel)))
            .ToArray();
        var python = RunPython(JsonSerializer.Serialize(spectra.Select(s => new { counts = s.Counts, offset = s.OffsetKeV, gain = s.GainKeVPerChannel })));

        Assert.Equal(spectra.Length, python.Length);
        for (var i = 0; i < spectra.Length; i++)
        {
            var actual = new float[ModelGrid.BinCount];
            RebinPlan.Create(new EnergyCalibration(spectra[i].OffsetKeV, spectra[i].GainKeVPerChannel), spectra[i].Counts.Length).Apply(spectra[i].Counts, actual);
            for (var bin = 0; bin < ModelGrid.BinCount; bin++)
            {
                // Both sides end in float32: 2 float32 ulps (1.2e-7 each) relative, plus Python's float64 cumulative-sum
                // rounding, a few ulps of the running total (≤ 3.5e13 here: ~0.01 counts).
                var tolerance = (2.5e-7 * Math.Abs(python[i][bin])) + 0.05;
                Assert.True(
                    Math.Abs(python[i][bin] - actual[bin]) <= tolerance,
                    string.Create(CultureInfo.InvariantCulture, $"spectrum {i} ({spectra[i].Counts.Length} channels, {spectra[i].OffsetKeV} + {spectra[i].GainKeVPerChannel}·ch keV), bin {bin}: C# plan {actual[bin]}, Python {python[i][bin]}"));
            }
        }
    }

    private static double[][] RunPython(string input) => JsonSerializer.Deserialize<double[][]>(DebianPython.Run(Script, input, "python rebin"))!;
}
