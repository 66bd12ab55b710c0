using System.Runtime.CompilerServices;

namespace XrfEdge.Synthesis.Sampling;

/// <summary>
/// xoshiro256** (Blackman &amp; Vigna 2018) seeded through SplitMix64 from (seed, index): every spectrum has its
/// own independent stream, so a spectrum depends only on (seed, index), never on which thread made it or in
/// which order.
/// </summary>
internal struct Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareNormal;
    private bool _hasSpare;

    public Rng(ulong seed, long index)
    {
        (_s0, _s1, _s2, _s3) = InitialState(seed, index);
        _spareNormal = 0;
        _hasSpare = false;
    }

    /// <summary>The four state words the stream of (<paramref name="seed"/>, <paramref name="index"/>) starts from.</summary>
    public static (ulong S0, ulong S1, ulong S2, ulong S3) InitialState(ulong seed, long index)
    {
        var x = seed ^ (0x9E3779B97F4A7C15UL * ((ulong)index + 1));
        return (SplitMix(ref x), SplitMix(ref x), SplitMix(ref x), SplitMix(ref x));
    }

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform on [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double min, double max) => min + ((max - min) * NextDouble());

    public int Next(int exclusiveMax) => (int)((NextUInt64() >> 33) * (ulong)exclusiveMax >> 31);

    public bool Chance(double probability) => NextDouble() < probability;

    /// <summary>Standard normal deviate (Marsaglia polar method, spare kept).</summary>
    public double Normal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareNormal;
        }

        double u, v, s;
        do
        {
            u = (2 * NextDouble()) - 1;
            v = (2 * NextDouble()) - 1;
            s = (u * u) + (v * v);
        }
        while (s >= 1 || s == 0);
        var m = Math.Sqrt(-2 * Math.Log(s) / s);
        _spareNormal = v * m;
        _hasSpare = true;
        return u * m;
    }
}
