using XrfEdge.Synthesis.Sampling;

namespace XrfEdge.Synthesis;

/// <summary>
/// Two spectra of one (seed, count) set whose random streams start from a shared state word: the spectra indices, the
/// streams (main or auxiliary) and how many of the four words they share.
/// </summary>
/// <param name="IndexA">The lower spectrum index.</param>
/// <param name="IndexB">The other spectrum index (may equal <paramref name="IndexA"/> across the two streams).</param>
/// <param name="Pairs">How many repeated state words there are among the spectra checked.</param>
/// <param name="Checked">How many spectra were checked (the first ones of the set).</param>
public sealed record SeedOverlap(long IndexA, long IndexB, long Pairs, long Checked);

/// <summary>
/// Finds the seeding weakness described in docs/synthesis.md ("Known weakness of the seeding"): for many small seeds
/// (0, 1 — the CLI default —, 2, 4, 8 …) neighbouring spectra start their xoshiro256** streams from shared SplitMix64
/// words, so they are not independent. Fixing the seeding would change every spectrum (a new generator version and
/// regenerated training data); until then <c>synth</c> checks the seed it is given and says so.
/// </summary>
public static class SeedCheck
{
    /// <summary>Spectra checked at most: 100,000 × 2 streams × 4 words, a sort of 800,000 numbers (≈ 0.1 s, 13 MB).</summary>
    public const long DefaultLimit = 100_000;

    /// <summary>
    /// Looks for a state word shared by two streams among the first <paramref name="limit"/> spectra of
    /// (<paramref name="seed"/>, <paramref name="count"/>): each spectrum's main stream and its second stream (tube L
    /// lines, escape, low-energy background, diffraction).
    /// </summary>
    /// <returns>The first shared pair found (lowest index) and how many there are, or null when every word is distinct.</returns>
    public static SeedOverlap? Find(ulong seed, long count, long limit = DefaultLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        long n = Math.Min(count, limit);
        var words = new ulong[n * 8];
        var owners = new long[n * 8]; // index × 2 + stream
        for (long i = 0; i < n; i++)
        {
            Put(Rng.InitialState(seed, i), i * 2, i * 8);
            Put(Rng.InitialState(seed ^ SpectrumGenerator.AuxiliaryStream, i), (i * 2) + 1, (i * 8) + 4);
        }

        Array.Sort(words, owners);
        long pairs = 0;
        (long A, long B)? first = null;
        for (long k = 1; k < words.LongLength; k++)
        {
            if (words[k] != words[k - 1] || owners[k] == owners[k - 1])
            {
                continue;
            }

            pairs++;
            long a = Math.Min(owners[k], owners[k - 1]) / 2, b = Math.Max(owners[k], owners[k - 1]) / 2;
            if (first is not { } f || a < f.A || (a == f.A && b < f.B))
            {
                first = (a, b);
            }
        }

        return first is { } found ? new SeedOverlap(found.A, found.B, pairs, n) : null;

        void Put((ulong S0, ulong S1, ulong S2, ulong S3) state, long owner, long at)
        {
            (words[at], words[at + 1], words[at + 2], words[at + 3]) = state;
            owners[at] = owners[at + 1] = owners[at + 2] = owners[at + 3] = owner;
        }
    }

    /// <summary>
    /// Looks for a state word shared between the sets of <paramref name="seed"/> and <paramref name="otherSeed"/> (their
    /// first <paramref name="count"/> spectra, at most <paramref name="limit"/>; both streams of each). Each seed alone
    /// may pass <see cref="Find"/> while their sets share words: 1001 and 1003 share 14,997 among 20,000 spectra each,
    /// so a validation set on 1003 beside a training set on 1001 repeats part of its random streams; the same seed twice
    /// shares every word.
    /// </summary>
    /// <returns>The shared pair with the lowest index of this set, or null when the sets share no word.</returns>
    public static SeedCrossOverlap? FindShared(ulong seed, ulong otherSeed, long count, long limit = DefaultLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        long n = Math.Min(count, limit);
        var owners = new Dictionary<ulong, long>(checked((int)(n * 8)));
        for (long j = 0; j < n; j++)
        {
            Add(Rng.InitialState(otherSeed, j), j);
            Add(Rng.InitialState(otherSeed ^ SpectrumGenerator.AuxiliaryStream, j), j);
        }

        long pairs = 0;
        (long Index, long Other)? first = null;
        for (long i = 0; i < n; i++)
        {
            Match(Rng.InitialState(seed, i), i);
            Match(Rng.InitialState(seed ^ SpectrumGenerator.AuxiliaryStream, i), i);
        }

        return first is { } found ? new SeedCrossOverlap(otherSeed, found.Index, found.Other, pairs, n) : null;

        void Add((ulong S0, ulong S1, ulong S2, ulong S3) state, long index)
        {
            // A word repeated inside the other set keeps its first owner: one pair is enough to name.
            owners.TryAdd(state.S0, index);
            owners.TryAdd(state.S1, index);
            owners.TryAdd(state.S2, index);
            owners.TryAdd(state.S3, index);
        }

        void Match((ulong S0, ulong S1, ulong S2, ulong S3) state, long index)
        {
            foreach (var word in (ReadOnlySpan<ulong>)[state.S0, state.S1, state.S2, state.S3])
            {
                if (owners.TryGetValue(word, out var other))
                {
                    pairs++;
                    first ??= (index, other);
                }
            }
        }
    }
}
