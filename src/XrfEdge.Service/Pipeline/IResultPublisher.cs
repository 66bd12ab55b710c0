namespace XrfEdge.Service.Pipeline;

/// <summary>
/// The durable end of the pipeline: results go into the outbox (SQLite, WAL) and are published from there over MQTT
/// when the broker is reachable. Health and status are latest-value messages and are not backlogged.
/// </summary>
internal interface IResultPublisher : IAsyncDisposable
{
    /// <summary>True while the broker connection is up.</summary>
    bool IsConnected { get; }

    /// <summary>Results stored but not yet acknowledged by the broker.</summary>
    long PendingCount { get; }

    /// <summary>
    /// Cancelled when the outbox is found damaged while running (SQLITE_CORRUPT/SQLITE_NOTADB, by a store, the drain or
    /// a health figure); <see cref="StorageDamage"/> then says how. Nothing can be stored until the service restarts.
    /// </summary>
    CancellationToken StorageDamaged { get; }

    /// <summary>The damage behind <see cref="StorageDamaged"/>, or null.</summary>
    XrfEdge.Messaging.Outbox.OutboxCorruptException? StorageDamage { get; }

    /// <summary>Connects (in the background; offline is a normal state) and starts draining the outbox.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stores a result durably (committed to disk when this completes); publication follows asynchronously.</summary>
    ValueTask StoreAsync(MeasurementResult result, CancellationToken cancellationToken);

    /// <summary>
    /// Stored measurements that did not complete and have their spectrum, oldest first after results row
    /// <paramref name="afterRowId"/> (for <see cref="ReanalysisWorker"/>).
    /// </summary>
    IReadOnlyList<XrfEdge.Messaging.Outbox.StoredIncompleteMeasurement> ReadIncompleteMeasurements(long afterRowId, int max);

    /// <summary>
    /// Raised when delivered (or expired, or dead-lettered) rows leave the queue within the share a re-analysis may fill
    /// (3/4 of <c>Outbox:MaxMegabytes</c>): a re-analysis refused for want of room may be stored now
    /// (<see cref="ReanalysisWorker"/>). On the thread that removed the rows; a handler returns at once. Since 2026-11-24.
    /// </summary>
    event EventHandler? ReanalysisRoomMade;

    /// <summary>How often <see cref="ReanalysisRoomMade"/> was raised: read before a store and compared after its refusal.</summary>
    long ReanalysisRoomMadeCount { get; }

    /// <summary>
    /// Stores the later analysis of a measurement stored as incomplete: a detection (<c>"reanalysed": true</c>) that
    /// replaces its stored event in one transaction. Durable when this completes.
    /// </summary>
    /// <exception cref="IOException">The outbox could not store it (full, or a detection with this id is stored already).</exception>
    ValueTask StoreReanalysedAsync(ReanalysedMeasurement measurement, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the later analyses of failed scan points of one scan (stored with their chunk): one <c>scans/points</c>
    /// chunk with <c>"reanalysed": true</c> that replaces their stored events in one transaction. Durable when this
    /// completes. Returns the scan indexes of the points published, in their order: points whose stored event is gone
    /// (pruned, or analysed already) are left out, so none is published twice (until 2026-11-24 only their number, and
    /// the log named the left-out ones as published).
    /// </summary>
    /// <exception cref="IOException">The outbox could not store them.</exception>
    ValueTask<IReadOnlyList<long>> StoreReanalysedScanPointsAsync(IReadOnlyList<ReanalysedScanPoint> points, CancellationToken cancellationToken);

    /// <summary>Stores a scan's summary durably, like a result.</summary>
    ValueTask StoreScanSummaryAsync(ScanSummary summary, CancellationToken cancellationToken);

    /// <summary>Publishes the retained status message (state, model, last error).</summary>
    ValueTask PublishStatusAsync(ServiceStatus status, CancellationToken cancellationToken);

    /// <summary>Publishes a health message (latest value, not backlogged).</summary>
    ValueTask PublishHealthAsync(HealthReport health, CancellationToken cancellationToken);

    /// <summary>Sends what the broker will take within the time left, then disconnects cleanly (availability = offline). The outbox keeps the rest.</summary>
    Task StopAsync(CancellationToken cancellationToken);
}
