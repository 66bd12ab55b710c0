using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace XrfEdge.Service.Options;

/// <summary>
/// Start-up checks of the TLS files (<c>Mqtt:CaFile</c>) and of the client certificate keys (<c>Mqtt:CertFile</c>,
/// <c>Mqtt:KeyFile</c>, <c>Mqtt:KeyPassword</c>):
/// what libmosquitto would otherwise report only at each connect, as a TLS error retried for ever (warning 7008).
/// </summary>
internal static class MqttTls
{
    // Public-key algorithm OIDs .NET can pair with a PEM key (RFC 8017 rsaEncryption, RFC 5480 id-ecPublicKey). Others
    // (Ed25519 …) OpenSSL reads but .NET does not, so for them only the files themselves are checked.
    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";

    /// <summary>Adds one sentence per problem, each naming the key, the value and what is wrong.</summary>
    public static void Check(MqttOptions mqtt, List<string> problems)
    {
        // A missing CA file is reported by ProfileValidator; here: one that exists but cannot be read or holds no certificate.
        if (mqtt.CaFile is not null && File.Exists(mqtt.CaFile) && ReadText("Mqtt:CaFile", mqtt.CaFile, problems) is { } ca
            && !ca.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            problems.Add($"Mqtt:CaFile = '{mqtt.CaFile}': holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }

        if (mqtt.CertFile is null && mqtt.KeyFile is null)
        {
            if (!string.IsNullOrEmpty(mqtt.KeyPassword))
            {
                problems.Add("Mqtt:KeyPassword is set but Mqtt:KeyFile is not: the password is for an encrypted client key");
            }

            return;
        }

        if (mqtt.CertFile is null || mqtt.KeyFile is null)
        {
            problems.Add(mqtt.CertFile is null
                ? $"Mqtt:KeyFile = '{mqtt.KeyFile}': needs Mqtt:CertFile, the client certificate of this key (mutual TLS uses both)"
                : $"Mqtt:CertFile = '{mqtt.CertFile}': needs Mqtt:KeyFile, the private key of this certificate (mutual TLS uses both)");
            return;
        }

        if (mqtt.CaFile is null)
        {
            problems.Add($"Mqtt:CertFile = '{mqtt.CertFile}': a client certificate needs TLS; set Mqtt:CaFile to the CA file that signed the broker's certificate");
        }

        var certificate = ReadText("Mqtt:CertFile", mqtt.CertFile, problems);
        var key = ReadText("Mqtt:KeyFile", mqtt.KeyFile, problems);
        if (certificate is null || key is null)
        {
            return;
        }

        if (!certificate.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            problems.Add($"Mqtt:CertFile = '{mqtt.CertFile}': holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
            return;
        }

        if (!key.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            problems.Add($"Mqtt:KeyFile = '{mqtt.KeyFile}': holds no PEM private key (-----BEGIN … PRIVATE KEY-----)");
            return;
        }

        bool encrypted = key.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal) || key.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal);
        var password = string.IsNullOrEmpty(mqtt.KeyPassword) ? null : mqtt.KeyPassword;
        if (encrypted && password is null)
        {
            problems.Add($"Mqtt:KeyFile = '{mqtt.KeyFile}': the key is encrypted; set Mqtt:KeyPassword (XRFEDGE_Mqtt__KeyPassword in /etc/xrfedge/xrfedge.env)");
            return;
        }

        if (!encrypted && password is not null)
        {
            problems.Add($"Mqtt:KeyPassword is set but Mqtt:KeyFile = '{mqtt.KeyFile}' is not encrypted; remove the password or encrypt the key");
            return;
        }

        PairCheck(mqtt.CertFile, certificate, mqtt.KeyFile, key, password, problems);
    }

    private static string? ReadText(string name, string path, List<string> problems)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            problems.Add($"{name} = '{path}': file not found");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{name} = '{path}': cannot be read by this user ({ex.Message}); give the service user read access (e.g. chgrp xrfedge, chmod 0640)");
        }

        return null;
    }

    /// <summary>Loads certificate and key together: a wrong password, or a key that is not the certificate's, fails here.</summary>
    private static void PairCheck(string certFile, string certificate, string keyFile, string key, string? password, List<string> problems)
    {
        // OpenSSL's legacy encrypted PEM (Proc-Type header) is not readable by .NET; OpenSSL still checks it at connect.
        if (key.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
        {
            return;
        }

        try
        {
            using var certificateOnly = X509Certificate2.CreateFromPem(certificate);
            if (certificateOnly.PublicKey.Oid.Value is not (RsaOid or EcOid))
            {
                return;
            }

            using var pair = password is null ? X509Certificate2.CreateFromPemFile(certFile, keyFile) : X509Certificate2.CreateFromEncryptedPemFile(certFile, password, keyFile);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            problems.Add(password is null
                ? $"Mqtt:KeyFile = '{keyFile}': not the private key of Mqtt:CertFile = '{certFile}', or unreadable ({ex.Message})"
                : $"Mqtt:KeyFile = '{keyFile}': could not be decrypted with Mqtt:KeyPassword, or is not the private key of Mqtt:CertFile = '{certFile}' ({ex.Message})");
        }
    }
}
