using XrfEdge.Messaging.Outbox;
using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>
/// A result publisher that hands every call to <see cref="Inner"/>: the base of the decorators that hold, count or time
/// some calls around the real publisher (the re-analysis tests, and the bench's re-analysis probe, which links this file).
/// </summary>
internal abstract class ForwardingResultPublisher(IResultPublisher inner) : IResultPublisher
{
    /// <summary>The publisher every call goes to.</summary>
    protected IResultPublisher Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    public bool IsConnected => Inner.IsConnected;

    public long PendingCount => Inner.PendingCount;

    public CancellationToken StorageDamaged => Inner.StorageDamaged;

    public OutboxCorruptException? StorageDamage => Inner.StorageDamage;

    public event EventHandler? ReanalysisRoomMade
    {
        add => Inner.ReanalysisRoomMade += value;
        remove => Inner.ReanalysisRoomMade -= value;
    }

    public long ReanalysisRoomMadeCount => Inner.ReanalysisRoomMadeCount;

    public Task StartAsync(CancellationToken cancellationToken) => Inner.StartAsync(cancellationToken);

    public virtual ValueTask StoreAsync(MeasurementResult result, CancellationToken cancellationToken) => Inner.StoreAsync(result, cancellationToken);

    public virtual IReadOnlyList<StoredIncompleteMeasurement> ReadIncompleteMeasurements(long afterRowId, int max) => Inner.ReadIncompleteMeasurements(afterRowId, max);

    public virtual ValueTask StoreReanalysedAsync(ReanalysedMeasurement measurement, CancellationToken cancellationToken) => Inner.StoreReanalysedAsync(measurement, cancellationToken);

    public virtual ValueTask<IReadOnlyList<long>> StoreReanalysedScanPointsAsync(IReadOnlyList<ReanalysedScanPoint> points, CancellationToken cancellationToken) => Inner.StoreReanalysedScanPointsAsync(points, cancellationToken);

    public ValueTask StoreScanSummaryAsync(ScanSummary summary, CancellationToken cancellationToken) => Inner.StoreScanSummaryAsync(summary, cancellationToken);

    public ValueTask PublishStatusAsync(ServiceStatus status, CancellationToken cancellationToken) => Inner.PublishStatusAsync(status, cancellationToken);

    public ValueTask PublishHealthAsync(HealthReport health, CancellationToken cancellationToken) => Inner.PublishHealthAsync(health, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Inner.StopAsync(cancellationToken);

    public virtual ValueTask DisposeAsync() => Inner.DisposeAsync();
}
