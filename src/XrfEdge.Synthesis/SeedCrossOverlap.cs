namespace XrfEdge.Synthesis;

/// <summary>
/// A spectrum of one set and a spectrum of a set of another seed whose random streams start from a shared state word,
/// so the two sets are not independent (docs/synthesis.md, "Known weakness of the seeding").
/// </summary>
/// <param name="OtherSeed">The other set's seed.</param>
/// <param name="Index">The spectrum of this set (lowest such index).</param>
/// <param name="OtherIndex">The spectrum of the other set that shares a word with it.</param>
/// <param name="Pairs">How many state words the two sets share among the spectra checked.</param>
/// <param name="Checked">How many spectra of each set were checked (the first ones).</param>
public sealed record SeedCrossOverlap(ulong OtherSeed, long Index, long OtherIndex, long Pairs, long Checked);
