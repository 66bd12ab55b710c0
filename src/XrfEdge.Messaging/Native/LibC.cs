using System.Runtime.InteropServices;

namespace XrfEdge.Messaging.Native;

/// <summary>
/// The libc socket calls the MQTT transport needs to end a connection that libmosquitto's network thread cannot end
/// itself (a DISCONNECT stuck behind a full send buffer; <see cref="Transport.MosquittoTransport"/>, "Stop"). Constants
/// are Linux's, the same on x86-64 and arm64 (<c>include/linux/net.h</c>); <c>struct sockaddr</c> is read as raw bytes,
/// so no layout differs between the two.
/// </summary>
internal static unsafe partial class LibC
{
    private const string Library = "libc";

    /// <summary><c>SHUT_RDWR</c> (<c>sys/socket.h</c>): no more receptions or transmissions.</summary>
    public const int ShutReadWrite = 2;

    /// <summary>Bytes of a <c>struct sockaddr_storage</c> (<c>bits/socket.h</c>), large enough for any address family.</summary>
    public const int SockaddrStorageBytes = 128;

    [LibraryImport(Library, EntryPoint = "dup", SetLastError = true)]
    public static partial int Dup(int fd);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary><c>shutdown(2)</c>: wakes a thread blocked in <c>select</c> on the socket (it reads end of file) and aborts a send that cannot go on.</summary>
    [LibraryImport(Library, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport(Library, EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, byte* address, ref uint length);

    [LibraryImport(Library, EntryPoint = "getpeername", SetLastError = true)]
    public static partial int GetPeerName(int fd, byte* address, ref uint length);

    /// <summary>
    /// The socket's local and peer address as raw <c>struct sockaddr</c> bytes, or null when <paramref name="fd"/> is not a
    /// connected socket: a TCP connection's pair of addresses is unique among the live connections of the host.
    /// </summary>
    public static byte[]? SocketIdentity(int fd)
    {
        var local = stackalloc byte[SockaddrStorageBytes];
        var peer = stackalloc byte[SockaddrStorageBytes];
        uint localLength = SockaddrStorageBytes;
        uint peerLength = SockaddrStorageBytes;
        if (GetSockName(fd, local, ref localLength) != 0 || GetPeerName(fd, peer, ref peerLength) != 0
            || localLength > SockaddrStorageBytes || peerLength > SockaddrStorageBytes)
        {
            return null;
        }

        return [.. new ReadOnlySpan<byte>(local, (int)localLength), .. new ReadOnlySpan<byte>(peer, (int)peerLength)];
    }
}
