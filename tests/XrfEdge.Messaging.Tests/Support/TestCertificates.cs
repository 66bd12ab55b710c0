using System.Diagnostics;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>
/// A throw-away PKI made with the openssl command line in a test's own folder (valid one day): a CA (<c>ca.crt</c>),
/// a server certificate for the given subjectAltName (<c>server.crt</c>/<c>server.key</c>) and client certificates
/// signed by the CA, with plain or encrypted (PKCS#8, AES-256-CBC) keys. Shared by the Messaging TLS tests and,
/// linked, by the service's profile TLS tests.
/// </summary>
public static class TestCertificates
{
    /// <summary>Writes <c>ca.*</c> and <c>server.*</c> into <paramref name="folder"/>.</summary>
    /// <param name="folder">The test's folder.</param>
    /// <param name="serverAltNames">The server certificate's subjectAltName, e.g. <c>DNS:localhost</c>.</param>
    public static void MakeCaAndServer(string folder, string serverAltNames)
    {
        Tool(folder, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=xrfedge-test-ca");
        File.WriteAllText(Path.Combine(folder, "server.ext"), $"subjectAltName={serverAltNames}\n");
        Tool(folder, "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
        Tool(folder, "openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "server.ext");
    }

    /// <summary>Writes <c>{name}.key</c> and <c>{name}.crt</c> (CN <paramref name="commonName"/>), signed by the CA of <see cref="MakeCaAndServer"/>.</summary>
    /// <param name="folder">The test's folder, holding the CA.</param>
    /// <param name="name">File name stem.</param>
    /// <param name="commonName">The certificate's CN (the device id).</param>
    /// <param name="keyPassword">Encrypts the key with it; null for a plain key.</param>
    public static void MakeClient(string folder, string name, string commonName, string? keyPassword = null)
    {
        if (keyPassword is null)
        {
            Tool(folder, "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + commonName);
        }
        else
        {
            Tool(folder, "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes-256-cbc", "-pass", "pass:" + keyPassword, "-out", name + ".key");
            Tool(folder, "openssl", "req", "-new", "-key", name + ".key", "-passin", "pass:" + keyPassword, "-out", name + ".csr", "-subj", "/CN=" + commonName);
        }

        Tool(folder, "openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", name + ".crt", "-days", "1");
    }

    /// <summary>Runs a command-line tool in <paramref name="folder"/> and fails the test, quoting its stderr, unless it exits 0.</summary>
    /// <param name="folder">Working folder.</param>
    /// <param name="file">The tool (openssl, mosquitto_passwd).</param>
    /// <param name="args">Its arguments.</param>
    public static void Tool(string folder, string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = folder, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        output.Wait();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} failed: {error}");
    }
}
