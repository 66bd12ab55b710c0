namespace XrfEdge.Messaging;

/// <summary>An MQTT operation failed; the message carries libmosquitto's own text and the operation that failed.</summary>
public sealed class MqttException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MqttException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public MqttException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public MqttException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the library's <c>mosq_err_t</c> code.</summary>
    public MqttException(string message, int errorCode)
        : base(message)
    {
        ErrorCode = errorCode;
    }

    /// <summary>libmosquitto <c>mosq_err_t</c> (or CONNACK/reason code), 0 when none applies.</summary>
    public int ErrorCode { get; }
}
