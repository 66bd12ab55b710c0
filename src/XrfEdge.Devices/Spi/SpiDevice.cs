namespace XrfEdge.Devices.Spi;

/// <summary>
/// An SPI peripheral behind spidev (shape of System.Device.Spi.SpiDevice): sets mode, bits per word and
/// clock once through the ioctl seam, then runs full-duplex transfers with chip select held for the whole
/// transfer (one SPI_IOC_MESSAGE(1)). A transfer is limited to spidev's default bufsiz of 4096 bytes.
/// </summary>
public sealed class SpiDevice : IDisposable
{
    private readonly ISpiIoctl _ioctl;

    /// <summary>Configures the device.</summary>
    /// <param name="ioctl">The spidev node or a simulated one.</param>
    /// <param name="mode">SPI mode 0–3 (CPOL/CPHA).</param>
    /// <param name="maxSpeedHz">Clock, Hz (4–16 MHz is safe on a Pi; its divider makes the real clock ≤ this).</param>
    /// <param name="bitsPerWord">Word size, 8 for our frame protocol.</param>
    public unsafe SpiDevice(ISpiIoctl ioctl, int mode, int maxSpeedHz, int bitsPerWord = 8)
    {
        _ioctl = ioctl ?? throw new ArgumentNullException(nameof(ioctl));
        if (mode is < 0 or > 3)
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "SPI mode is 0–3");
        }

        var m = (byte)mode;
        var bits = (byte)bitsPerWord;
        var speed = (uint)maxSpeedHz;
        _ioctl.Ioctl(SpiIoctlNumbers.WriteMode, (nint)(&m));
        _ioctl.Ioctl(SpiIoctlNumbers.WriteBitsPerWord, (nint)(&bits));
        _ioctl.Ioctl(SpiIoctlNumbers.WriteMaxSpeedHz, (nint)(&speed));
        MaxSpeedHz = maxSpeedHz;
    }

    /// <summary>Configured clock, Hz.</summary>
    public int MaxSpeedHz { get; }

    /// <summary>Sends <paramref name="tx"/> while receiving into <paramref name="rx"/> (same length; tx empty = clock out zeros).</summary>
    /// <exception cref="ArgumentException">Longer than 4096 bytes or mismatched lengths.</exception>
    public unsafe void Transfer(ReadOnlySpan<byte> tx, Span<byte> rx)
    {
        var length = Math.Max(tx.Length, rx.Length);
        if (!tx.IsEmpty && !rx.IsEmpty && tx.Length != rx.Length)
        {
            throw new ArgumentException("tx and rx must be the same length", nameof(rx));
        }

        if (length > SpiIoctlNumbers.DefaultBufferSize)
        {
            throw new ArgumentException($"an SPI transfer of {length} bytes exceeds spidev's 4096-byte bufsiz; chunk it", nameof(tx));
        }

        fixed (byte* t = tx)
        fixed (byte* r = rx)
        {
            var transfer = new SpiIocTransfer
            {
                TxBuffer = (ulong)(nint)t,
                RxBuffer = (ulong)(nint)r,
                Length = (uint)length,
            };
            _ioctl.Ioctl(SpiIoctlNumbers.Message(1), (nint)(&transfer));
        }
    }

    /// <inheritdoc />
    public void Dispose() => _ioctl.Dispose();
}
