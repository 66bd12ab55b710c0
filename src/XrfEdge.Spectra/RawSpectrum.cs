using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Spectra;

/// <summary>
/// One MCA histogram as acquired or read from a file: counts per channel plus everything needed to
/// interpret them. Immutable by convention; the counts array is owned by the spectrum.
/// </summary>
public sealed record RawSpectrum
{
    /// <summary>Identifier unique within its source (file line id, measurement id, file name).</summary>
    public required string Id { get; init; }

    /// <summary>Counts per channel, non-negative. 64–16384 channels in practice.</summary>
    public required long[] Counts { get; init; }

    /// <summary>Energy calibration of the channels.</summary>
    public required EnergyCalibration Calibration { get; init; }

    /// <summary>Acquisition live time (dead-time corrected), if known.</summary>
    public TimeSpan? LiveTime { get; init; }

    /// <summary>Acquisition real (wall-clock) time, if known.</summary>
    public TimeSpan? RealTime { get; init; }

    /// <summary>Where the spectrum came from: file path, device serial, profile …; free-form key/value pairs.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Excitation conditions (tube anode, voltage, current), if known.</summary>
    public Excitation? Excitation { get; init; }

    /// <summary>Total counts over all channels.</summary>
    public long TotalCounts
    {
        get
        {
            long sum = 0;
            foreach (var c in Counts)
            {
                sum += c;
            }

            return sum;
        }
    }
}
