namespace XrfEdge.Messaging.Outbox;

/// <summary>What the outbox does when a new row would exceed <see cref="OutboxOptions.MaxBytes"/>.</summary>
public enum OutboxFullPolicy
{
    /// <summary>Evict rows by (kind priority, age): health history first, detections last; every eviction is counted and logged.</summary>
    EvictOldest = 0,

    /// <summary>Refuse the new row with <see cref="OutboxFullException"/>; keep everything stored.</summary>
    RejectNew = 1,
}
