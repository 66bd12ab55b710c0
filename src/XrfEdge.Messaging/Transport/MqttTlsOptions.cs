namespace XrfEdge.Messaging.Transport;

/// <summary>TLS settings (OpenSSL inside libmosquitto). The broker's host name is always verified against its certificate.</summary>
public sealed class MqttTlsOptions
{
    /// <summary>PEM file of the CA that signed the broker certificate. Required when TLS is on.</summary>
    public string? CaFile { get; set; }

    /// <summary>
    /// PEM client certificate for mutual TLS (brokers with <c>require_certificate true</c>), or null; set together with
    /// <see cref="KeyFile"/>. May hold intermediate CA certificates after the client's own (OpenSSL reads it as a chain).
    /// </summary>
    public string? CertFile { get; set; }

    /// <summary>PEM private key of <see cref="CertFile"/>, or null; encrypted keys need <see cref="KeyPassword"/>.</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// Password of an encrypted <see cref="KeyFile"/>, handed to OpenSSL through libmosquitto's password callback at every
    /// connect; null = the key is not encrypted (OpenSSL is then never asked to prompt on a terminal).
    /// </summary>
    public string? KeyPassword { get; set; }

    /// <summary>Minimum TLS version as libmosquitto spells it; "tlsv1.2" by default.</summary>
    public string TlsVersion { get; set; } = "tlsv1.2";
}
