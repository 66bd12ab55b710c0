namespace XrfEdge.Messaging.Transport;

/// <summary>TLS settings (OpenSSL inside libmosquitto). The broker's host name is always verified against its certificate.</summary>
public sealed class MqttTlsOptions
{
    /// <summary>PEM file of the CA that signed the broker certificate. Required when TLS is on.</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM client certificate for mutual TLS, or null.</summary>
    public string? CertFile { get; set; }

    /// <summary>PEM private key of <see cref="CertFile"/> (unencrypted), or null.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Minimum TLS version as libmosquitto spells it; "tlsv1.2" by default.</summary>
    public string TlsVersion { get; set; } = "tlsv1.2";
}
