using System.Runtime.CompilerServices;

namespace XrfEdge.Synthesis.Sampling;

/// <summary>
/// Poisson deviates: inversion by sequential search for λ &lt; 12, Hörmann's PTRS transformed rejection
/// (Hörmann 1993, "The transformed rejection method for generating Poisson random variables") for
/// 12 ≤ λ &lt; 1e5, and the normal approximation above (skewness 1/√λ &lt; 0.3 %).
/// </summary>
internal static class Poisson
{
    private static readonly double[] LogFactorialTable = BuildTable();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Sample(ref Rng rng, double lambda)
    {
        if (lambda <= 0)
        {
            return 0;
        }

        if (lambda < 12)
        {
            var p = ExpNegative(lambda);
            var u = rng.NextDouble();
            long k = 0;
            var cumulative = p;
            while (u > cumulative && k < 200)
            {
                k++;
                p *= lambda / k;
                cumulative += p;
            }

            return k;
        }

        return lambda < 1e5 ? Ptrs(ref rng, lambda) : Math.Max(0, (long)Math.Round(lambda + (Math.Sqrt(lambda) * rng.Normal())));
    }

    private static long Ptrs(ref Rng rng, double lambda)
    {
        var slam = Math.Sqrt(lambda);
        var logLam = Math.Log(lambda);
        var b = 0.931 + (2.53 * slam);
        var a = -0.059 + (0.02483 * b);
        var invAlpha = 1.1239 + (1.1328 / (b - 3.4));
        var vr = 0.9277 - (3.6224 / (b - 2));
        while (true)
        {
            var u = rng.NextDouble() - 0.5;
            var v = rng.NextDouble();
            var us = 0.5 - Math.Abs(u);
            var k = (long)Math.Floor((((2 * a / us) + b) * u) + lambda + 0.43);
            if (us >= 0.07 && v <= vr)
            {
                return k;
            }

            if (k < 0 || (us < 0.013 && v > us))
            {
                continue;
            }

            if (Math.Log(v) + Math.Log(invAlpha) - Math.Log((a / (us * us)) + b) <= -lambda + (k * logLam) - LogFactorial(k))
            {
                return k;
            }
        }
    }

    /// <summary>
    /// e^(−x) for 0 ≤ x &lt; 12 without a libm call: 2^(−x·log2 e) split into an exact power of two and a degree-7
    /// polynomial of 2^f on [0, 1) (relative error below 1e-10, far under what a Poisson draw can notice).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double ExpNegative(double x)
    {
        var y = x * 1.4426950408889634;
        var i = (int)y;
        var f = y - i; // 2^(−y) = 2^(−i) · 2^(−f)
        var t = -f * 0.6931471805599453; // e^t, t in (−ln2, 0]
        // Taylor series of e^t to degree 11 (Horner): truncation error < 0.693^12 / 12! ≈ 2e-11.
        var poly = 1.0 / 39916800;
        poly = (poly * t) + (1.0 / 3628800);
        poly = (poly * t) + (1.0 / 362880);
        poly = (poly * t) + (1.0 / 40320);
        poly = (poly * t) + (1.0 / 5040);
        poly = (poly * t) + (1.0 / 720);
        poly = (poly * t) + (1.0 / 120);
        poly = (poly * t) + (1.0 / 24);
        poly = (poly * t) + (1.0 / 6);
        poly = (poly * t) + 0.5;
        poly = (poly * t) + 1;
        poly = (poly * t) + 1;
        return BitConverter.Int64BitsToDouble((long)(1023 - i) << 52) * poly;
    }

    /// <summary>ln(k!) from a table below 64, Stirling's series above (error &lt; 1e-10).</summary>
    public static double LogFactorial(long k)
    {
        if (k < LogFactorialTable.Length)
        {
            return LogFactorialTable[k];
        }

        double x = k;
        return ((x + 0.5) * Math.Log(x)) - x + (0.5 * Math.Log(2 * Math.PI)) + (1 / (12 * x)) - (1 / (360 * x * x * x));
    }

    private static double[] BuildTable()
    {
        var t = new double[64];
        for (var k = 1; k < t.Length; k++)
        {
            t[k] = t[k - 1] + Math.Log(k);
        }

        return t;
    }
}
