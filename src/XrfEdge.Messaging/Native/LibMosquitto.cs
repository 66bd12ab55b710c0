using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;

namespace XrfEdge.Messaging.Native;

/// <summary>
/// Thin P/Invoke binding of libmosquitto 2.0 (Debian <c>libmosquitto1</c>; header <c>include/mosquitto.h</c> at tag
/// v2.0.11). Only the flat functions the transport needs; every call returns a <c>mosq_err_t</c> (0 = success)
/// unless noted. Callbacks are registered as <c>delegate* unmanaged</c> pointers to <see cref="UnmanagedCallersOnlyAttribute"/>
/// methods, so no delegate can be collected while the library holds it.
/// </summary>
internal static unsafe partial class LibMosquitto
{
    /// <summary>The runtime package installs only the versioned soname; the unversioned .so comes with -dev.</summary>
    private const string Lib = "libmosquitto.so.1";

    // mosq_opt_t (mosquitto.h).
    public const int OptProtocolVersion = 1;
    public const int OptReceiveMaximum = 4;
    public const int OptSendMaximum = 5;
    public const int OptTcpNoDelay = 11;

    // MQTT protocol versions (mosquitto.h MQTT_PROTOCOL_V311 / V5).
    public const int ProtocolV311 = 4;
    public const int ProtocolV5 = 5;

    // Property identifiers (include/mqtt_protocol.h).
    public const int PropMessageExpiryInterval = 2;
    public const int PropContentType = 3;
    public const int PropResponseTopic = 8;
    public const int PropCorrelationData = 9;
    public const int PropWillDelayInterval = 24;
    public const int PropMaximumPacketSize = 39;
    public const int PropUserProperty = 38;

    // mosq_err_t values used by the transport.
    public const int ErrSuccess = 0;
    public const int ErrNoConn = 4;
    public const int ErrConnLost = 7;
    public const int ErrPayloadSize = 9;
    public const int ErrKeepalive = 19;
    public const int ErrOversizePacket = 25;

    /// <summary>MQTT 5 reason code 0x95 "Packet too large" (MQTT 5.0 §2.4, reason code table).</summary>
    public const int ReasonPacketTooLarge = 0x95;

    // Log levels (mosquitto.h MOSQ_LOG_*) the transport acts on.
    public const int LogErr = 8;

    [LibraryImport(Lib, EntryPoint = "mosquitto_lib_init")]
    public static partial int LibInit();

    [LibraryImport(Lib, EntryPoint = "mosquitto_lib_version")]
    public static partial int LibVersion(out int major, out int minor, out int revision);

    [LibraryImport(Lib, EntryPoint = "mosquitto_new", StringMarshalling = StringMarshalling.Utf8)]
    public static partial MosquittoHandle New(string? id, [MarshalAs(UnmanagedType.U1)] bool cleanSession, nint obj);

    /// <summary>
    /// <c>mosquitto_reinitialise</c>: closes the client's connection, frees its state (the outgoing messages it still holds
    /// included) and sets it up again as <c>mosquitto_new</c> would, at the same address; every option and callback must be
    /// set again (mosquitto.h: "The end result is the same as the output of mosquitto_new").
    /// </summary>
    [LibraryImport(Lib, EntryPoint = "mosquitto_reinitialise", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Reinitialise(MosquittoHandle mosq, string? id, [MarshalAs(UnmanagedType.U1)] bool cleanSession, nint obj);

    [LibraryImport(Lib, EntryPoint = "mosquitto_destroy")]
    public static partial void Destroy(nint mosq);

    [LibraryImport(Lib, EntryPoint = "mosquitto_int_option")]
    public static partial int IntOption(MosquittoHandle mosq, int option, int value);

    [LibraryImport(Lib, EntryPoint = "mosquitto_username_pw_set", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UsernamePwSet(MosquittoHandle mosq, string? username, string? password);

    /// <summary>
    /// <c>mosquitto_tls_set</c>: checks that each named file can be opened (MOSQ_ERR_INVAL otherwise) and stores the paths;
    /// OpenSSL reads them at every connect. <paramref name="passwordCallback"/> is OpenSSL's <c>pem_password_cb</c>
    /// (<c>int cb(char *buf, int size, int rwflag, void *userdata)</c>), called for an encrypted key; libmosquitto passes its
    /// own <c>struct mosquitto *</c> as userdata (lib/net_mosq.c, <c>net__init_ssl_ctx</c>). Without one OpenSSL asks on the
    /// terminal.
    /// </summary>
    [LibraryImport(Lib, EntryPoint = "mosquitto_tls_set", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int TlsSet(MosquittoHandle mosq, string? caFile, string? caPath, string? certFile, string? keyFile, nint passwordCallback);

    /// <summary><c>mosquitto_userdata</c>: the <c>obj</c> pointer given to <c>mosquitto_new</c> (our GCHandle).</summary>
    [LibraryImport(Lib, EntryPoint = "mosquitto_userdata")]
    public static partial nint Userdata(nint mosq);

    [LibraryImport(Lib, EntryPoint = "mosquitto_tls_opts_set", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int TlsOptsSet(MosquittoHandle mosq, int certRequirements, string? tlsVersion, string? ciphers);

    [LibraryImport(Lib, EntryPoint = "mosquitto_tls_insecure_set")]
    public static partial int TlsInsecureSet(MosquittoHandle mosq, [MarshalAs(UnmanagedType.U1)] bool insecure);

    [LibraryImport(Lib, EntryPoint = "mosquitto_will_set_v5", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int WillSetV5(MosquittoHandle mosq, string topic, int payloadLength, byte* payload, int qos, [MarshalAs(UnmanagedType.U1)] bool retain, nint properties);

    [LibraryImport(Lib, EntryPoint = "mosquitto_reconnect_delay_set")]
    public static partial int ReconnectDelaySet(MosquittoHandle mosq, uint delaySeconds, uint delayMaxSeconds, [MarshalAs(UnmanagedType.U1)] bool exponential);

    [LibraryImport(Lib, EntryPoint = "mosquitto_connect_async", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ConnectAsync(MosquittoHandle mosq, string host, int port, int keepaliveSeconds);

    [LibraryImport(Lib, EntryPoint = "mosquitto_disconnect_v5")]
    public static partial int DisconnectV5(MosquittoHandle mosq, int reasonCode, nint properties);

    /// <summary>
    /// <c>mosquitto_socket</c>: the client's socket descriptor, or -1 while it has none. Read without the library's lock (the
    /// library does the same); the network thread may close the descriptor at any moment after.
    /// </summary>
    [LibraryImport(Lib, EntryPoint = "mosquitto_socket")]
    public static partial int Socket(MosquittoHandle mosq);

    [LibraryImport(Lib, EntryPoint = "mosquitto_loop_start")]
    public static partial int LoopStart(MosquittoHandle mosq);

    [LibraryImport(Lib, EntryPoint = "mosquitto_loop_stop")]
    public static partial int LoopStop(MosquittoHandle mosq, [MarshalAs(UnmanagedType.U1)] bool force);

    [LibraryImport(Lib, EntryPoint = "mosquitto_publish_v5", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int PublishV5(MosquittoHandle mosq, out int mid, string topic, int payloadLength, byte* payload, int qos, [MarshalAs(UnmanagedType.U1)] bool retain, nint properties);

    [LibraryImport(Lib, EntryPoint = "mosquitto_subscribe_v5", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SubscribeV5(MosquittoHandle mosq, out int mid, string pattern, int qos, int options, nint properties);

    [LibraryImport(Lib, EntryPoint = "mosquitto_strerror")]
    public static partial nint StrError(int rc);

    [LibraryImport(Lib, EntryPoint = "mosquitto_reason_string")]
    public static partial nint ReasonString(int reasonCode);

    [LibraryImport(Lib, EntryPoint = "mosquitto_connack_string")]
    public static partial nint ConnackString(int code);

    [LibraryImport(Lib, EntryPoint = "mosquitto_connect_v5_callback_set")]
    public static partial void ConnectV5CallbackSet(MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, int, nint, void> callback);

    [LibraryImport(Lib, EntryPoint = "mosquitto_disconnect_v5_callback_set")]
    public static partial void DisconnectV5CallbackSet(MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, nint, void> callback);

    [LibraryImport(Lib, EntryPoint = "mosquitto_publish_v5_callback_set")]
    public static partial void PublishV5CallbackSet(MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, int, nint, void> callback);

    [LibraryImport(Lib, EntryPoint = "mosquitto_message_v5_callback_set")]
    public static partial void MessageV5CallbackSet(MosquittoHandle mosq, delegate* unmanaged<nint, nint, MosquittoMessage*, nint, void> callback);

    [LibraryImport(Lib, EntryPoint = "mosquitto_subscribe_v5_callback_set")]
    public static partial void SubscribeV5CallbackSet(MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, int, int*, nint, void> callback);

    [LibraryImport(Lib, EntryPoint = "mosquitto_log_callback_set")]
    public static partial void LogCallbackSet(MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, nint, void> callback);

    [LibraryImport(Lib, EntryPoint = "mosquitto_property_add_string", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int PropertyAddString(ref nint properties, int identifier, string value);

    [LibraryImport(Lib, EntryPoint = "mosquitto_property_add_binary")]
    public static partial int PropertyAddBinary(ref nint properties, int identifier, byte* value, ushort length);

    [LibraryImport(Lib, EntryPoint = "mosquitto_property_add_int32")]
    public static partial int PropertyAddInt32(ref nint properties, int identifier, uint value);

    [LibraryImport(Lib, EntryPoint = "mosquitto_property_add_string_pair", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int PropertyAddStringPair(ref nint properties, int identifier, string name, string value);

    [LibraryImport(Lib, EntryPoint = "mosquitto_property_read_string")]
    public static partial nint PropertyReadString(nint properties, int identifier, out nint value, [MarshalAs(UnmanagedType.U1)] bool skipFirst);

    [LibraryImport(Lib, EntryPoint = "mosquitto_property_read_binary")]
    public static partial nint PropertyReadBinary(nint properties, int identifier, out nint value, out ushort length, [MarshalAs(UnmanagedType.U1)] bool skipFirst);

    [LibraryImport(Lib, EntryPoint = "mosquitto_property_read_int32")]
    public static partial nint PropertyReadInt32(nint properties, int identifier, out uint value, [MarshalAs(UnmanagedType.U1)] bool skipFirst);

    [LibraryImport(Lib, EntryPoint = "mosquitto_property_read_string_pair")]
    public static partial nint PropertyReadStringPair(nint properties, int identifier, out nint name, out nint value, [MarshalAs(UnmanagedType.U1)] bool skipFirst);

    [LibraryImport(Lib, EntryPoint = "mosquitto_property_free_all")]
    public static partial void PropertyFreeAll(ref nint properties);

    /// <summary>The read_* functions return malloc'd copies that the caller frees with libc free (reference §2.1, tested).</summary>
    [LibraryImport("libc", EntryPoint = "free")]
    public static partial void Free(nint pointer);

    /// <summary>The library's own text for a <c>mosq_err_t</c>; 2.0.11 returns "Unknown error." for 19, so keep a table for that one.</summary>
    public static string ErrorText(int rc) => rc switch
    {
        ErrKeepalive => "Keepalive timeout (broker silent for 1.5x keep-alive).",
        _ => Marshal.PtrToStringUTF8(StrError(rc)) ?? $"error {rc}",
    };

    /// <summary>The library's text for an MQTT 5 reason code.</summary>
    public static string ReasonText(int reasonCode) => Marshal.PtrToStringUTF8(ReasonString(reasonCode)) ?? $"reason 0x{reasonCode:X2}";

    /// <summary>The library's text for a CONNACK code (3.1.1 return codes 0–5 or MQTT 5 reason codes).</summary>
    public static string ConnackText(int code) => Marshal.PtrToStringUTF8(ConnackString(code)) ?? $"connack {code}";

    /// <summary>Throws <see cref="MqttException"/> carrying the library's message when <paramref name="rc"/> is not success.</summary>
    public static void Check(int rc, string operation)
    {
        if (rc != ErrSuccess)
        {
            throw new MqttException($"libmosquitto {operation} failed: {ErrorText(rc)} (rc {rc}).", rc);
        }
    }

    /// <summary>Reads the first string property <paramref name="identifier"/>, or null.</summary>
    public static string? ReadString(nint properties, int identifier)
    {
        if (properties == 0 || PropertyReadString(properties, identifier, out var value, false) == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(value);
        }
        finally
        {
            Free(value);
        }
    }

    /// <summary>Reads the first binary property <paramref name="identifier"/>, or null.</summary>
    public static byte[]? ReadBinary(nint properties, int identifier)
    {
        if (properties == 0 || PropertyReadBinary(properties, identifier, out var value, out var length, false) == 0)
        {
            return null;
        }

        try
        {
            return new ReadOnlySpan<byte>((void*)value, length).ToArray();
        }
        finally
        {
            Free(value);
        }
    }

    /// <summary>Reads the first uint32 property <paramref name="identifier"/>, or null.</summary>
    public static uint? ReadInt32(nint properties, int identifier) =>
        properties != 0 && PropertyReadInt32(properties, identifier, out var value, false) != 0 ? value : null;

    /// <summary>Reads all user properties in order.</summary>
    public static List<KeyValuePair<string, string>> ReadUserProperties(nint properties)
    {
        var result = new List<KeyValuePair<string, string>>();
        var cursor = properties;
        var skipFirst = false;
        while (cursor != 0)
        {
            cursor = PropertyReadStringPair(cursor, PropUserProperty, out var name, out var value, skipFirst);
            if (cursor == 0)
            {
                break;
            }

            try
            {
                result.Add(new(Marshal.PtrToStringUTF8(name) ?? string.Empty, Marshal.PtrToStringUTF8(value) ?? string.Empty));
            }
            finally
            {
                Free(name);
                Free(value);
            }

            skipFirst = true;
        }

        return result;
    }

    /// <summary><c>struct mosquitto_message { int mid; char *topic; void *payload; int payloadlen; int qos; bool retain; }</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MosquittoMessage
    {
        public int Mid;
        public nint Topic;
        public nint Payload;
        public int PayloadLength;
        public int Qos;
        public byte Retain;
    }

    /// <summary>Owns a <c>struct mosquitto*</c>; released with <c>mosquitto_destroy</c>.</summary>
    internal sealed class MosquittoHandle : SafeHandle
    {
        public MosquittoHandle()
            : base(0, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            Destroy(handle);
            return true;
        }
    }
}
