namespace XrfEdge.Messaging.Transport;

/// <summary>A connection state change, raised off the network thread.</summary>
/// <param name="state">The new state.</param>
/// <param name="code">CONNACK code or disconnect <c>mosq_err_t</c> that caused it (0 when none).</param>
/// <param name="description">Library text for <paramref name="code"/>.</param>
public sealed class MqttStateChangedEventArgs(MqttConnectionState state, int code, string description) : EventArgs
{
    /// <summary>The new state.</summary>
    public MqttConnectionState State { get; } = state;

    /// <summary>CONNACK code or disconnect <c>mosq_err_t</c>.</summary>
    public int Code { get; } = code;

    /// <summary>Library text for <see cref="Code"/>.</summary>
    public string Description { get; } = description;
}
