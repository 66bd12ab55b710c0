namespace XrfEdge.Devices.Simulation;

/// <summary>Link and device faults the simulated MCAs inject into every <c>FaultEvery</c>-th reply.</summary>
public enum SimulatedFault
{
    /// <summary>A well-behaved device.</summary>
    None,

    /// <summary>1–40 random bytes (never a sync byte) before the reply, like line noise after a plug-in.</summary>
    Garbage,

    /// <summary>One byte removed from the middle of the reply (a UART overrun).</summary>
    DroppedBytes,

    /// <summary>The reply's checksum is wrong.</summary>
    BadChecksum,

    /// <summary>The reply leaves only after a delay longer than a typical time-out.</summary>
    SlowReplies,

    /// <summary>Half of the reply is sent, then the link drops (cable pulled mid-packet).</summary>
    Disconnect,

    /// <summary>A transient error ACK (busy or checksum error) instead of the reply.</summary>
    ErrorAcks,
}
