namespace XrfEdge.Spectra.Rebinning;

/// <summary>
/// The energy grid the line encoder reads: 300 bins of 0.1 keV covering 0–30 keV, bin <c>i</c> is
/// <c>[i·0.1, (i+1)·0.1)</c> keV. Fixed by the paper's model (300 inputs, 0–30 keV).
/// </summary>
public static class ModelGrid
{
    /// <summary>Number of bins: 300.</summary>
    public const int BinCount = 300;

    /// <summary>Bin width, keV: 0.1.</summary>
    public const double BinWidthKeV = 0.1;

    /// <summary>Lower edge of bin 0, keV: 0.</summary>
    public const double LowerKeV = 0.0;

    /// <summary>Upper edge of the last bin, keV: 30.</summary>
    public const double UpperKeV = LowerKeV + (BinCount * BinWidthKeV);

    /// <summary>Lower edge of bin <paramref name="bin"/>, keV.</summary>
    public static double BinLowerKeV(int bin) => LowerKeV + (bin * BinWidthKeV);

    /// <summary>Centre of bin <paramref name="bin"/>, keV.</summary>
    public static double BinCentreKeV(int bin) => LowerKeV + ((bin + 0.5) * BinWidthKeV);

    /// <summary>
    /// The bin holding <paramref name="energyKeV"/>, or −1 outside 0–30 keV: the bin whose edges, as
    /// <see cref="BinLowerKeV"/> computes them and <see cref="Rebinner"/> compares with, enclose it.
    /// </summary>
    public static int BinOf(double energyKeV)
    {
        if (!(energyKeV >= LowerKeV && energyKeV < UpperKeV))
        {
            return -1;
        }

        // The quotient can round across an edge (1.7 / 0.1 = 17, but bin 17 starts at 17·0.1 = 1.7000000000000002; 4.3 / 0.1
        // = 42.99…, but bin 43 starts at 4.3): one step against the edges themselves settles it.
        var bin = Math.Min(BinCount - 1, (int)((energyKeV - LowerKeV) / BinWidthKeV));
        if (bin < BinCount - 1 && BinLowerKeV(bin + 1) <= energyKeV)
        {
            bin++;
        }
        else if (bin > 0 && BinLowerKeV(bin) > energyKeV)
        {
            bin--;
        }

        return bin;
    }
}
