using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Devices.Acquisition;
using XrfEdge.Spectra;

namespace XrfEdge.Devices.Spi;

/// <summary>
/// Host side of the XrfEdge SPI MCA frame protocol (docs/spi-mca-protocol.md): each command is one 12-byte
/// transfer; its response is read by a following transfer (after the data-ready line rises, or by polling
/// while the first byte says "not ready"). A snapshot is taken atomically on the device and then read in
/// chunks of at most 4092 bytes, so no transfer exceeds spidev's 4096-byte bufsiz; the payload CRC-32 is
/// checked over the reassembled counts and the chunks are read again on a mismatch (the snapshot does not
/// change until the next SNAPSHOT). Every wait uses the given <see cref="TimeProvider"/>.
/// </summary>
public sealed class SpiMcaClient
{
    /// <summary>First response byte: command accepted, data follows.</summary>
    public const byte Ack = 0x06;

    /// <summary>First response byte: command refused, NACK code follows.</summary>
    public const byte Nack = 0x15;

    private readonly SpiDevice _device;
    private readonly AcquisitionProfile _profile;
    private readonly TimeProvider _time;
    private readonly IDataReadyLine? _dataReady;
    private readonly ILogger _logger;
    private long _measurementIndex;

    /// <summary>Creates the client.</summary>
    /// <param name="deviceName">Device path, for messages.</param>
    /// <param name="device">The configured spidev device (or one over a simulated ioctl).</param>
    /// <param name="profile">Time-outs, attempts and calibration.</param>
    /// <param name="timeProvider">Clock for every wait.</param>
    /// <param name="dataReady">Optional data-ready line; without it the client polls every millisecond.</param>
    /// <param name="logger">Optional logger.</param>
    public SpiMcaClient(string deviceName, SpiDevice device, AcquisitionProfile profile, TimeProvider timeProvider, IDataReadyLine? dataReady = null, ILogger? logger = null)
    {
        DeviceName = deviceName;
        _device = device;
        _profile = profile;
        _time = timeProvider;
        _dataReady = dataReady;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Device path or name.</summary>
    public string DeviceName { get; }

    /// <summary>Commands or chunk sets repeated after a NACK, time-out or CRC mismatch.</summary>
    public int RetryCount { get; private set; }

    /// <summary>
    /// Whether the MCA may be counting: true from just before a START is sent (acknowledged or not: a lost ACK may still
    /// have started it) until an acknowledged STOP, or a snapshot that says it is not acquiring. An abort needs a STOP
    /// only while this is true; before any START there is nothing to stop, and a silent MCA would only cost the STOP's
    /// time-outs (the counterpart of <c>Dp5Session.McaMayBeEnabled</c>).
    /// </summary>
    public bool MayBeCounting { get; private set; }

    /// <summary>
    /// Sets <see cref="MayBeCounting"/> for a client opened on a bus whose previous client may have left the MCA counting
    /// (a START sent before the link failed): the MCA keeps counting across a reopened bus, so an abort still owes it a
    /// STOP. Cleared as ever, by an acknowledged STOP or a snapshot that says it is not acquiring.
    /// </summary>
    public void AssumeMayBeCounting() => MayBeCounting = true;

    /// <summary>Interval between "not ready" polls when there is no data-ready line: 1 ms.</summary>
    public static TimeSpan ResponsePollInterval => TimeSpan.FromMilliseconds(1);

    /// <summary>Sends a command and returns the <paramref name="responseLength"/> data bytes after its ACK.</summary>
    /// <exception cref="SpiProtocolException">A NACK that retrying cannot fix, or no answer after the profile's attempts.</exception>
    public async Task<byte[]> CommandAsync(SpiCommand command, int responseLength, CancellationToken cancellationToken)
    {
        var tx = command.Encode();
        var rx = new byte[SpiCommand.Size];
        string? reason = null;
        byte? wrongEcho = null;
        for (var attempt = 1; attempt <= _profile.MaxAttempts; attempt++)
        {
            if (attempt > 1)
            {
                RetryCount++;
                Log.SpiFrameRejected(_logger, reason ?? "?", attempt - 1, _profile.MaxAttempts);
            }

            wrongEcho = null;

            _device.Transfer(tx, rx);
            var response = new byte[1 + Math.Max(responseLength, 2)];
            var started = _time.GetTimestamp();
            if (_dataReady is not null && !await _dataReady.WaitAsync(_profile.ReplyTimeout, cancellationToken).ConfigureAwait(false))
            {
                reason = "data-ready line stayed low";
                continue;
            }

            while (true)
            {
                _device.Transfer([], response);
                if (response[0] is Ack or Nack)
                {
                    break;
                }

                if (_time.GetElapsedTime(started) > _profile.ReplyTimeout)
                {
                    break;
                }

                await Task.Delay(ResponsePollInterval, _time, cancellationToken).ConfigureAwait(false);
            }

            switch (response[0])
            {
                case Ack when EchoesOpcode(command.Opcode) && response[1] != (byte)command.Opcode:
                    // §3: START, STOP and CLEAR answer with their own opcode. Any other echo is the answer to some other
                    // command (a stale response left in the slave, or a slave that lost track of the exchange), so this
                    // command may not have run: treat it like the other recoverable errors — wait, then send it again.
                    wrongEcho = response[1];
                    reason = DescribeWrongEcho(command.Opcode, response[1]);
                    await Task.Delay(_profile.PollInterval, _time, cancellationToken).ConfigureAwait(false);
                    continue;
                case Ack:
                    if (command.Opcode == SpiOpcode.Stop)
                    {
                        MayBeCounting = false;
                    }

                    return response.AsSpan(1, responseLength).ToArray();
                case Nack when (SpiNackCode)response[1] is SpiNackCode.BadCommandCrc or SpiNackCode.Busy:
                    reason = $"NACK {(SpiNackCode)response[1]}";
                    await Task.Delay(_profile.PollInterval, _time, cancellationToken).ConfigureAwait(false);
                    continue;
                case Nack:
                    throw new SpiProtocolException((SpiNackCode)response[1], $"{DeviceName}: SPI MCA refused {command.Opcode}: NACK {(SpiNackCode)response[1]}");
                default:
                    reason = string.Create(CultureInfo.InvariantCulture, $"no response within {_profile.ReplyTimeout.TotalMilliseconds:0} ms");
                    continue;
            }
        }

        var message = $"{DeviceName}: {command.Opcode} failed after {_profile.MaxAttempts} attempts: {reason}; check wiring, SPI mode {_profile.SpiMode} and clock {_profile.SpiMaxSpeedHz} Hz";
        throw wrongEcho is { } received ? new SpiProtocolException(message, command.Opcode, received) : new SpiProtocolException(message);
    }

    /// <summary>Whether the ACK of <paramref name="opcode"/> carries its opcode as its one data byte (§3: START, STOP, CLEAR).</summary>
    private static bool EchoesOpcode(SpiOpcode opcode) => opcode is SpiOpcode.Start or SpiOpcode.Stop or SpiOpcode.Clear;

    private static string DescribeWrongEcho(SpiOpcode expected, byte received) => string.Create(
        CultureInfo.InvariantCulture,
        $"ACK echoed opcode 0x{received:X2} ({(Enum.IsDefined((SpiOpcode)received) ? ((SpiOpcode)received).ToString() : "unknown")}) where 0x{(byte)expected:X2} ({expected}) was expected (a stale reply or a desynchronised MCA)");

    /// <summary>Takes an atomic snapshot (optionally clearing the histogram in the same step) and reads it in ≤ 4092-byte chunks.</summary>
    public async Task<SpiSnapshot> ReadSnapshotAsync(bool clear, CancellationToken cancellationToken)
    {
        var headerBytes = await CommandAsync(new SpiCommand(SpiOpcode.Snapshot, clear ? (ushort)1 : (ushort)0), SpiFrameHeader.Length, cancellationToken).ConfigureAwait(false);
        var header = SpiFrameHeader.TryDecode(headerBytes, out var error);
        for (var attempt = 1; header is null && attempt < _profile.MaxAttempts; attempt++)
        {
            // Re-read the header of the same snapshot: a second SNAPSHOT could lose a cleared histogram.
            Log.SpiFrameRejected(_logger, error!, attempt, _profile.MaxAttempts);
            RetryCount++;
            headerBytes = await CommandAsync(new SpiCommand(SpiOpcode.Read, 0, 0, SpiFrameHeader.Length), SpiFrameHeader.Length, cancellationToken).ConfigureAwait(false);
            header = SpiFrameHeader.TryDecode(headerBytes, out error);
        }

        if (header is null)
        {
            throw new SpiProtocolException($"{DeviceName}: snapshot header rejected: {error}");
        }

        var payload = new byte[header.PayloadLength];
        for (var attempt = 1; ; attempt++)
        {
            for (var offset = 0; offset < payload.Length; offset += SpiCommand.MaxReadLength)
            {
                var n = Math.Min(SpiCommand.MaxReadLength, payload.Length - offset);
                var chunk = await CommandAsync(new SpiCommand(SpiOpcode.Read, 0, (uint)(SpiFrameHeader.Length + offset), (ushort)n), n, cancellationToken).ConfigureAwait(false);
                chunk.CopyTo(payload, offset);
            }

            if (SpiCrc.Crc32(payload) == header.PayloadCrc32)
            {
                break;
            }

            if (attempt >= _profile.MaxAttempts)
            {
                throw new SpiProtocolException($"{DeviceName}: payload CRC-32 mismatch on {attempt} reads of snapshot {header.Sequence}");
            }

            RetryCount++;
            Log.SpiFrameRejected(_logger, "payload CRC-32 mismatch", attempt, _profile.MaxAttempts);
        }

        var counts = new long[header.ChannelCount];
        for (var channel = 0; channel < counts.Length; channel++)
        {
            long value = 0;
            for (var b = header.CountWidth - 1; b >= 0; b--)
            {
                value = (value << 8) | payload[(channel * header.CountWidth) + b];
            }

            counts[channel] = value;
        }

        return new SpiSnapshot(header, counts);
    }

    /// <summary>
    /// Clears, starts with a preset, waits for it (then polls), and reads the final snapshot (docs/spi-mca-protocol.md §6).
    /// The end is accepted only when the header says "preset reached" or its live time is at least the preset less one
    /// 1 ms timer tick; snapshot sequence numbers must increase (modulo 2^32) from the first snapshot after START. Anything else means
    /// the MCA was reset (brown-out, watchdog) or the link lost or repeated a snapshot, and the spectrum is refused.
    /// </summary>
    /// <param name="presetTime">Preset live time, 1 ms up to uint.MaxValue ms (the START offset field, §3); whole milliseconds are sent.</param>
    /// <param name="cancellationToken">Aborts the wait; the caller sends STOP (the MCA keeps counting otherwise).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="presetTime"/> rounds to 0 ms (START would mean "no preset") or exceeds the field.</exception>
    /// <exception cref="SpiProtocolException">The MCA stopped short of the preset, or a snapshot sequence repeated or went back.</exception>
    /// <exception cref="SpectrumSaturatedException">The final snapshot has the saturated flag (§5, flags bit 2) or a channel at 2^(8·width) − 1.</exception>
    /// <exception cref="ChannelCountMismatchException">The MCA's header states another channel count than the profile's MCAC (see <see cref="ToRawSpectrum"/>).</exception>
    public async Task<RawSpectrum> MeasureAsync(TimeSpan presetTime, CancellationToken cancellationToken)
    {
        var presetMilliseconds = Math.Floor(presetTime.TotalMilliseconds);
        if (!(presetMilliseconds >= 1 && presetMilliseconds <= uint.MaxValue))
        {
            // START's offset 0 means "no preset" (§3): a sub-millisecond preset would let the MCA count forever.
            throw new ArgumentOutOfRangeException(nameof(presetTime), presetTime, $"{DeviceName}: the SPI MCA's preset must be at least 1 ms and at most {uint.MaxValue} ms (whole milliseconds)");
        }

        await CommandAsync(new SpiCommand(SpiOpcode.Clear), 0, cancellationToken).ConfigureAwait(false);
        MayBeCounting = true;
        await CommandAsync(new SpiCommand(SpiOpcode.Start, 0, (uint)presetMilliseconds), 0, cancellationToken).ConfigureAwait(false);
        await Task.Delay(presetTime, _time, cancellationToken).ConfigureAwait(false);
        var started = _time.GetTimestamp();
        uint? previousSequence = null;
        while (true)
        {
            var snapshot = await ReadSnapshotAsync(clear: false, cancellationToken).ConfigureAwait(false);
            var header = snapshot.Header;

            // §5: the sequence increments per SNAPSHOT. A repeat is a stale image; a step back is a device that restarted
            // (its counter starts again) — either way this is not the histogram our START began. The u32 counter wraps
            // from 2^32 − 1 to 0, so "later" is judged in serial-number arithmetic (SpiFrameHeader.IsSequenceAfter).
            if (previousSequence is { } previous && !SpiFrameHeader.IsSequenceAfter(header.Sequence, previous))
            {
                throw new SpiProtocolException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{DeviceName}: SPI MCA snapshot sequence went from {previous} to {header.Sequence} during the measurement (it must increase, modulo 2^32): the MCA was reset or a snapshot was repeated; the spectrum is discarded"));
            }

            previousSequence = header.Sequence;
            if (header.PresetReached || !header.Acquiring)
            {
                MayBeCounting = false; // stopped by itself (preset) or by a reset: refused below or not, nothing counts
                // One timer tick (1 ms, the header's live-time unit) of slack: the MCA may stop on the tick before the preset.
                if (!header.PresetReached && header.LiveTime.TotalMilliseconds < presetMilliseconds - 1)
                {
                    throw new SpiProtocolException(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{DeviceName}: SPI MCA stopped before its preset (live time {header.LiveTime.TotalMilliseconds:0} ms of {presetMilliseconds:0} ms, preset-reached flag not set, snapshot {header.Sequence}): it was reset or lost power during the measurement; the spectrum is discarded"));
                }

                var spectrum = ToRawSpectrum(snapshot);
                ThrowIfSaturated(snapshot);
                return spectrum;
            }

            if (_time.GetElapsedTime(started) > presetTime + TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"{DeviceName}: preset not reached 30 s after it was due");
            }

            await Task.Delay(_profile.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Refuses a clipped snapshot (§5): clipped peaks would be analysed as if real. It is clipped when the header has the
    /// saturated flag (flags bit 2) or when any channel holds the largest count its width allows,
    /// 2^(8·width) − 1 (<see cref="SpiFrameHeader.MaximumCount"/>). The second test does not trust the firmware to set the
    /// flag: a channel counter that saturates stops at that value, and one that wraps has already lost counts by the
    /// time it reads that value, so a channel at the maximum is never a count that can be trusted. A genuine count of
    /// exactly 2^(8·width) − 1 is refused too; that is one count short of clipping and costs a measurement, not a result.
    /// </summary>
    private void ThrowIfSaturated(SpiSnapshot snapshot) =>
        SpectrumSaturatedException.ThrowIfSaturated("SPI MCA", DeviceName, snapshot.Counts, snapshot.Header.MaximumCount, snapshot.Header.LiveTime, snapshot.Header.Saturated);

    /// <summary>
    /// Wraps a snapshot with the profile's calibration and counters, after checking that the header's channel count
    /// (docs/spi-mca-protocol.md §5, set by the MCA's firmware) is the one that calibration is for.
    /// </summary>
    /// <exception cref="ChannelCountMismatchException">The snapshot has another channel count than the profile's MCAC.</exception>
    public RawSpectrum ToRawSpectrum(SpiSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var h = snapshot.Header;
        ChannelCountMismatchException.ThrowIfMismatched("SPI MCA", DeviceName, snapshot.Counts.Length, _profile);
        var ic = CultureInfo.InvariantCulture;
        return new RawSpectrum
        {
            Id = string.Create(ic, $"{DeviceName}#{++_measurementIndex}"),
            Counts = snapshot.Counts,
            Calibration = _profile.Calibration,
            LiveTime = h.LiveTime,
            RealTime = h.RealTime,
            Metadata = new Dictionary<string, string>
            {
                ["device"] = DeviceName,
                ["protocol"] = "spi",
                ["profile"] = _profile.Name,
                ["snapshot_sequence"] = h.Sequence.ToString(ic),
                ["fast_count"] = h.FastCount.ToString(ic),
                ["slow_count"] = h.SlowCount.ToString(ic),
                ["flags"] = h.Flags.ToString(ic),
                ["acquired_utc"] = _time.GetUtcNow().ToString("O", ic),
            },
        };
    }
}
