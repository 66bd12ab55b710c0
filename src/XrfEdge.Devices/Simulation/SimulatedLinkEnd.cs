namespace XrfEdge.Devices.Simulation;

/// <summary>Why <see cref="SimulatedDp5.ServeAsync"/> returned.</summary>
public enum SimulatedLinkEnd
{
    /// <summary>The link was closed by the other side or cancelled.</summary>
    Closed,

    /// <summary>The simulator dropped the link on purpose (<see cref="SimulatedFault.Disconnect"/>); the host should offer a new one.</summary>
    Disconnected,
}
