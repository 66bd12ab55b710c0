using System.Threading.Channels;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// The bounded channels joining the workers. Both use <see cref="BoundedChannelFullMode.Wait"/>: a measurement is
/// never dropped, so when analysis or the outbox falls behind, acquisition waits (the MCA keeps its own buffer;
/// in scan mode the scanner is slowed rather than points lost). Capacities: spectra = 4 × the batch size, so a full
/// batch is always ready while the next is encoded; results = the same, so a slow disk write does not stall analysis.
/// </summary>
internal sealed class PipelineChannels
{
    public PipelineChannels(int maxBatchSize)
    {
        int capacity = Math.Max(16, 4 * maxBatchSize);
        Capacity = capacity;
        Spectra = Channel.CreateBounded<PipelineItem>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
        Results = Channel.CreateBounded<PipelineItem>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
    }

    /// <summary>Capacity of each channel.</summary>
    public int Capacity { get; }

    /// <summary>Acquisition → analysis.</summary>
    public Channel<PipelineItem> Spectra { get; }

    /// <summary>Analysis → outbox/publishing.</summary>
    public Channel<PipelineItem> Results { get; }
}
