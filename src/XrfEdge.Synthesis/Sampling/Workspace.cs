using XrfEdge.Spectra.Calibration;
using XrfEdge.Spectra.Physics;

namespace XrfEdge.Synthesis.Sampling;

/// <summary>
/// Per-thread scratch memory of a <see cref="SpectrumGenerator"/>: every array a spectrum needs, allocated once,
/// so generating into a dataset allocates (almost) nothing per spectrum. Also holds the last spectrum's results.
/// </summary>
internal sealed class Workspace
{
    public const int MaxChannels = 16384;
    public const int MaxComponents = 64;
    public const int MaxPeaks = 4096;
    public const int MaxForeignElements = 5;
    public const int MaxTubeLines = 16;
    public const int MaxReflections = 512;

    public Workspace(int lineCount, int elementCount)
    {
        LineArea = new double[lineCount];
        LineGaussianArea = new double[lineCount];
        Lines = new byte[lineCount];
        LineNet = new float[lineCount];
        LineBackground = new float[lineCount];
        PaperLines = new byte[lineCount];
        Elements = new byte[elementCount];
        ElementsInSample = new byte[elementCount];
        IgnoreElements = new byte[elementCount];
    }

    // Excitation (grid of PhysicsTables, 600 bins).
    public readonly float[] Primary = new float[PhysicsTables.GridCount];
    public readonly float[] SampleMu = new float[PhysicsTables.GridCount];
    public readonly double[] SampleRayleigh = new double[PhysicsTables.GridCount];
    public readonly double[] SampleCompton = new double[PhysicsTables.GridCount];
    public readonly double[] Detection = new double[PhysicsTables.GridCount];
    public readonly double[] Continuum = new double[PhysicsTables.GridCount + 2];
    public readonly double[] ShelfStep = new double[PhysicsTables.GridCount + 2];
    public readonly double[] Smoothed = new double[PhysicsTables.GridCount + 2];

    public readonly int[] TubeLine = new int[MaxTubeLines];
    public readonly double[] TubePhotons = new double[MaxTubeLines];
    public readonly double[] TubeSampleMu = new double[MaxTubeLines];
    public int TubeLineCount;

    // Sample.
    public readonly int[] ComponentAbsorber = new int[MaxComponents];
    public readonly double[] ComponentFraction = new double[MaxComponents];
    public int ComponentCount;

    // Peaks (energy keV, area, sigma keV, catalogue line or −1, whether it escapes/tails).
    public readonly double[] PeakEnergy = new double[MaxPeaks];
    public readonly double[] PeakArea = new double[MaxPeaks];
    public readonly double[] PeakSigma = new double[MaxPeaks];
    public int PeakCount;

    public readonly double[] LineArea;
    public readonly double[] LineGaussianArea;

    // MCA.
    public readonly double[] Expected = new double[MaxChannels];
    public readonly double[] Prefix = new double[MaxChannels + 1];
    public readonly long[] Counts = new long[MaxChannels];
    public int ChannelCount;

    // Results.
    public readonly byte[] Lines;

    /// <summary>Expected (noise-free) net counts of each catalogue line inside its label window; 0 for lines of elements
    /// that make no peak (not in the sample, and not the anode or Ar) and for lines with no window above the LLD.</summary>
    public readonly float[] LineNet;

    /// <summary>Expected counts in each catalogue line's label window that are not its own (continuum, other peaks);
    /// computed for every line with a window above the LLD, present or not.</summary>
    public readonly float[] LineBackground;
    public readonly byte[] PaperLines;
    public readonly byte[] Elements;
    public readonly byte[] ElementsInSample;
    public readonly byte[] IgnoreElements;
    public EnergyCalibration ReportedCalibration = new(0, 0.01);
    public EnergyCalibration TrueCalibration = new(0, 0.01);
    public double TubeVoltageKilovolts;
    public double TubeCurrentMicroamperes;
    public double LiveTimeSeconds;
    public double CountRate;
    public double ExpectedTotal;
    public int AnodeAbsorber;
    public string Anode = "Rh";
    public string Filter = "none";
    public bool Monochromatic;
    public string Path = "vacuum";
    public double PathLengthMillimetres;
    public double ScatterAngleDegrees;
    public double EscapeScale = 1;
    public double LowEnergyLevel;
    public double LowEnergyKneeKeV;
    public double LowEnergyWidthKeV;
    public int DiffractionPeaks;
    public double DiffractionStrength;
    public readonly double[] ReflectionEnergy = new double[MaxReflections];
    public readonly double[] ReflectionWeight = new double[MaxReflections];
    public readonly double[] ReflectionSigma = new double[MaxReflections];
    public int ForeignCount;
    public readonly int[] ForeignElement = new int[MaxForeignElements];
    public readonly double[] ForeignFraction = new double[MaxForeignElements];
    public string Detector = "SDD";
    public double FwhmMnKaElectronvolts;
    public string Matrix = "none";
    public string SampleKind = "mixture";
    public double? ThinMassThickness;
    public double? FiniteMassThickness;
}
