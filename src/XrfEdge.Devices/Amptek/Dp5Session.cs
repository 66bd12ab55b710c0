using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Devices.Acquisition;
using XrfEdge.Devices.Native;
using XrfEdge.Spectra;

namespace XrfEdge.Devices.Amptek;

/// <summary>
/// A conversation with one DP5-family device over a byte link (serial port, pty, memory): connect and
/// identify, apply a firmware-config profile, and run measurements (clear → enable → poll status → read
/// spectrum + status), following DP5 Programmer's Guide rev A7 §1.8-style recipe (clear F0/01, enable F0/02,
/// poll 01/01 until b35 D5 "MCA enabled" drops, read 02/03). Every request has a reply time-out sized to
/// the reply's wire time, bounded retries (a corrupt reply is retried at once, a missing one after the
/// time-out, a busy ACK after a bounded back-off), and a lost link (cable pulled, USB adapter re-enumerated) is
/// reopened through the <c>connect</c> delegate a bounded number of times. A device that restarted (power cycle, brown-out, battery swap)
/// is back at its flash defaults, so once the profile has been applied the session re-applies it before the next
/// measurement when a status says "first status since reboot" (b36 D5, FW6.05+) or the link had to be reopened; a
/// restart seen during a measurement fails that measurement (<see cref="Dp5DeviceRestartedException"/>).
/// All waits use the given <see cref="TimeProvider"/>. Not thread-safe: one caller at a time.
/// </summary>
public sealed class Dp5Session : IAsyncDisposable
{
    private readonly Func<CancellationToken, ValueTask<Stream>> _connect;
    private readonly AcquisitionProfile _profile;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dp5PacketDecoder _decoder = new(Dp5PacketKinds.Responses);
    private readonly List<Dp5Packet> _packets = [];
    private readonly byte[] _readBuffer = new byte[4096];
    private Stream? _link;
    private long _measurementIndex;
    private bool _everConnected;
    private bool _statusSeen;
    private bool _profileApplied;
    private string? _reapplyReason;

    /// <summary>Creates a session; nothing is opened until <see cref="ConnectAsync"/>.</summary>
    /// <param name="deviceName">Device path or name, for messages.</param>
    /// <param name="connect">Opens the link (e.g. a <see cref="SerialPort"/>'s BaseStream); called again after a link loss.</param>
    /// <param name="profile">Time-outs, retries, configuration and calibration.</param>
    /// <param name="timeProvider">Clock for every wait (a fake one in tests).</param>
    /// <param name="logger">Optional logger.</param>
    public Dp5Session(string deviceName, Func<CancellationToken, ValueTask<Stream>> connect, AcquisitionProfile profile, TimeProvider timeProvider, ILogger? logger = null)
    {
        DeviceName = deviceName;
        _connect = connect;
        _profile = profile;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Device path or name.</summary>
    public string DeviceName { get; }

    /// <summary>The last status received, if any.</summary>
    public Dp5Status? LastStatus { get; private set; }

    /// <summary>Times the link was reopened after a loss.</summary>
    public int ReconnectCount { get; private set; }

    /// <summary>Requests repeated after a time-out, corrupt reply or transient error ACK (busy included).</summary>
    public int RetryCount { get; private set; }

    /// <summary>Requests repeated after a busy ACK (0x0D), each after a back-off wait; part of <see cref="RetryCount"/>.</summary>
    public int BusyRetryCount { get; private set; }

    /// <summary>First wait after a busy ACK: 10 ms. Each further busy reply to the same request doubles it (10, 20, 40 … ms).</summary>
    public static TimeSpan BusyBackoffFirstWait => TimeSpan.FromMilliseconds(10);

    /// <summary>Longest single wait after a busy ACK: 500 ms, so the device is asked at least twice a second.</summary>
    public static TimeSpan BusyBackoffLongestWait => TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Total back-off a request may spend on busy ACKs before it fails: 2.5 s. The guide gives no bound on how long a DP5
    /// stays busy (ACK 0x0D: another interface in use, or FW6.08+ sequential buffering; guide rev A7 Table 3). 2.5 s is the
    /// Amptek SDK's RS-232 reply time-out (<c>RS232_TIMEOUT</c>, "8K spectrum ~2.2s"), the time another interface needs to
    /// read the largest spectrum; a device held longer than that is held by another host, and the request fails saying so.
    /// Busy replies do not use up the profile's <see cref="AcquisitionProfile.MaxAttempts"/>.
    /// </summary>
    public static TimeSpan BusyBackoffBudget => TimeSpan.FromMilliseconds(2500);

    /// <summary>
    /// Restarts of the device seen in its status: b36 D5 "first status since reboot" on any status after the session's
    /// first (FW6.05+; older firmware never sets it, guide §4.2.1).
    /// </summary>
    public int DeviceRestartCount { get; private set; }

    /// <summary>Times <see cref="MeasureAsync"/> re-applied the profile after a restart or a reopened link.</summary>
    public int ProfileReapplyCount { get; private set; }

    /// <summary>
    /// Whether <see cref="MeasureAsync"/> will re-apply the profile before it measures: it was applied in this session,
    /// and since then the device restarted, the link was reopened, or a re-application failed.
    /// </summary>
    public bool ProfileReapplyPending => _profileApplied && _reapplyReason is not null;

    /// <summary>
    /// Whether the MCA may be counting, as far as this session can tell: set just before an enable request (F0/02) is
    /// written (the device may act on it even if its ACK is lost), then what every status says ("MCA enabled", b35 D5),
    /// and cleared by an acknowledged disable (<see cref="DisableMcaAsync"/>). False for a session that never had an
    /// enable out nor a status saying enabled, e.g. one still connecting to a device that does not answer. An aborted
    /// measurement needs a disable round-trip only while this is true.
    /// </summary>
    public bool McaMayBeEnabled { get; private set; }

    /// <summary>Sends "disable MCA/MCS" (F0/03) and waits for its ACK; once acknowledged, <see cref="McaMayBeEnabled"/> is false.</summary>
    public async Task DisableMcaAsync(CancellationToken cancellationToken)
    {
        await ExpectAckAsync(Dp5Requests.DisableMca(), cancellationToken).ConfigureAwait(false);
        McaMayBeEnabled = false;
    }

    /// <summary>The decoder (for its error counters).</summary>
    public Dp5PacketDecoder Decoder => _decoder;

    /// <summary>Opens the link, requests status and identifies the device.</summary>
    public async Task<Dp5Status> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_link is null)
        {
            _link = await _connect(cancellationToken).ConfigureAwait(false);
            _everConnected = true;
        }

        var status = await GetStatusAsync(cancellationToken).ConfigureAwait(false);
        Log.Connected(_logger, DeviceName, status.DeviceType.ToString(), status.SerialNumber?.ToString(CultureInfo.InvariantCulture) ?? "none", status.FirmwareVersion.ToString());
        return status;
    }

    /// <summary>Requests the 64-byte status (01/01 → 80/01).</summary>
    public async Task<Dp5Status> GetStatusAsync(CancellationToken cancellationToken)
    {
        var reply = await ExchangeAsync(Dp5Requests.Status(), p => p.Pid1 == 0x80 && p.Pid2 == 0x01, Dp5Status.Length, cancellationToken).ConfigureAwait(false);
        if (reply.Data.Length != Dp5Status.Length)
        {
            throw new Dp5ProtocolException(string.Create(CultureInfo.InvariantCulture, $"{DeviceName}: status packet carries {reply.Data.Length} bytes, expected 64"));
        }

        var status = Dp5Status.Decode(reply.Data);
        Observe(status);
        return status;
    }

    /// <summary>
    /// Sends the profile's configuration (RESC first, guide order, ≤ 512-byte packets) and reads it back to verify.
    /// From then on the session keeps the device at this configuration: see <see cref="ProfileReapplyPending"/>.
    /// </summary>
    /// <returns>The read-back values by command name.</returns>
    /// <exception cref="Dp5ProtocolException">The device rejected a command (the message names it) or read back a different value.</exception>
    public async Task<IReadOnlyDictionary<string, string>> ApplyProfileAsync(CancellationToken cancellationToken)
    {
        // Cleared before the first command, so a link reopened while they go out marks the profile again.
        var pending = _reapplyReason;
        _reapplyReason = null;
        var applied = false;
        try
        {
            var readBack = await SendAndVerifyProfileAsync(cancellationToken).ConfigureAwait(false);
            applied = true;
            _profileApplied = true;
            return readBack;
        }
        finally
        {
            if (!applied)
            {
                // A half-applied configuration is no better than the defaults: try again before the next measurement.
                _reapplyReason ??= pending ?? "the last attempt to apply it failed";
            }
        }
    }

    private async Task<IReadOnlyDictionary<string, string>> SendAndVerifyProfileAsync(CancellationToken cancellationToken)
    {
        var payloads = Dp5TextConfiguration.BuildPayloads(_profile.Configuration, _profile.AllowHighVoltageCommands, _profile.ResetBeforeConfiguring);
        foreach (var payload in payloads)
        {
            await ExpectAckAsync(Dp5Requests.TextConfiguration(payload, _profile.SaveToFlash), cancellationToken).ConfigureAwait(false);
        }

        Log.ConfigurationApplied(_logger, _profile.Configuration.Count, payloads.Count, _profile.SaveToFlash);
        var names = _profile.Configuration.Select(c => c.Key.ToUpperInvariant()).ToList();
        var readBack = await ReadBackAsync(names, cancellationToken).ConfigureAwait(false);
        foreach (var (name, value) in _profile.Configuration)
        {
            var key = name.ToUpperInvariant();
            if (!readBack.TryGetValue(key, out var actual) || actual == "??")
            {
                throw new Dp5ProtocolException($"{DeviceName}: read-back of {key} failed (device answered '{actual ?? "nothing"}')");
            }

            if (key == "MCAC" && !string.Equals(actual, value.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                throw new Dp5ProtocolException($"{DeviceName}: MCAC read back as {actual}, profile asked for {value}: the calibration would not match");
            }
        }

        return readBack;
    }

    /// <summary>Reads configuration values back (20/03 → 82/07), in batches of at most 32 names.</summary>
    /// <exception cref="Dp5ProtocolException">A reply whose text is not <c>NAME=value;…</c> (the message quotes the fragment).</exception>
    public async Task<IReadOnlyDictionary<string, string>> ReadBackAsync(IEnumerable<string> names, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var payload in Dp5TextConfiguration.BuildReadBackPayloads(names))
        {
            var reply = await ExchangeAsync(Dp5Requests.ReadBack(payload), p => p.Pid1 == 0x82 && p.Pid2 == 0x07, 512, cancellationToken).ConfigureAwait(false);
            IReadOnlyDictionary<string, string> values;
            try
            {
                values = Dp5TextConfiguration.ParseReadBack(Encoding.ASCII.GetString(reply.Data));
            }
            catch (FormatException e)
            {
                // The firmware does not guard its read-back reply against overflow (reference note mca-and-files.md
                // §1.4): a garbled reply is a device error like any other (an IOException), not a crash of the caller.
                throw new Dp5ProtocolException($"{DeviceName}: read-back reply garbled: {e.Message}", e);
            }

            foreach (var (k, v) in values)
            {
                result[k] = v;
            }
        }

        return result;
    }

    /// <summary>
    /// Requests the spectrum with status (02/03, or 02/04 to clear at the same moment). The reply time-out is sized for
    /// the profile's MCAC; a reply whose header announces more channels is heard out (see <see cref="ExchangeAsync"/>).
    /// </summary>
    public async Task<Dp5Spectrum> ReadSpectrumAsync(bool clear, CancellationToken cancellationToken)
    {
        var expectedBytes = (3 * _profile.ChannelCount) + Dp5Status.Length;
        var reply = await ExchangeAsync(Dp5Requests.Spectrum(withStatus: true, clear), Dp5Spectrum.IsSpectrum, expectedBytes, cancellationToken).ConfigureAwait(false);
        var spectrum = Dp5Spectrum.Decode(reply);
        if (spectrum.Status is { } status)
        {
            Observe(status);
        }

        return spectrum;
    }

    /// <summary>
    /// Runs one measurement for <paramref name="presetTime"/>: requests status, re-applies the profile if
    /// <see cref="ProfileReapplyPending"/> (a restart seen in that status or earlier, a reopened link), sets PRET (not
    /// saved to flash), clears, enables, polls status every <see cref="AcquisitionProfile.PollInterval"/> until
    /// "MCA enabled" drops (guide §1.8 step 4: the robust end-of-preset test), then reads spectrum + status.
    /// A session that never applied a profile only requests the status: it pushes no configuration.
    /// </summary>
    /// <returns>The spectrum as a <see cref="RawSpectrum"/> carrying the profile's calibration, accumulation time as live time, real time and the status fields.</returns>
    /// <exception cref="ChannelCountMismatchException">The DP5 sent another channel count than the profile's MCAC (see <see cref="ToRawSpectrum"/>).</exception>
    /// <exception cref="Dp5DeviceRestartedException">A status during the measurement, or the spectrum's, says the device restarted.</exception>
    /// <exception cref="Dp5ProtocolException">Re-applying the profile failed (the message names the command).</exception>
    /// <exception cref="SpectrumSaturatedException">A channel is at 16,777,215, the largest count a 3-byte DP5 channel holds.</exception>
    /// <exception cref="Dp5ProtocolException">The MCA stopped more than 0.1 s short of PRET without a preset flag (a restart the status could not flag, or another interface disabled it).</exception>
    public async Task<RawSpectrum> MeasureAsync(TimeSpan presetTime, CancellationToken cancellationToken)
    {
        if (presetTime < AcquisitionProfile.Dp5PresetResolution)
        {
            throw new ArgumentOutOfRangeException(nameof(presetTime), presetTime, $"{DeviceName}: the DP5's preset must be at least {AcquisitionProfile.Dp5PresetResolution.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s (PRET's resolution; PRET=0.0 is OFF)");
        }

        // A restart since the last measurement shows in the first status after it (64 bytes, a few ms at 115200 baud).
        await GetStatusAsync(cancellationToken).ConfigureAwait(false);
        if (ProfileReapplyPending)
        {
            Log.ProfileReapplying(_logger, DeviceName, _reapplyReason!);
            await ApplyProfileAsync(cancellationToken).ConfigureAwait(false);
            ProfileReapplyCount++;
        }

        var restartsBefore = DeviceRestartCount;
        var pret = presetTime.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
        await ExpectAckAsync(Dp5Requests.TextConfiguration($"PRET={pret};", saveToFlash: false), cancellationToken).ConfigureAwait(false);
        await ExpectAckAsync(Dp5Requests.ClearSpectrum(), cancellationToken).ConfigureAwait(false);
        McaMayBeEnabled = true; // before the request leaves: the device may act on it even if its ACK never arrives
        await ExpectAckAsync(Dp5Requests.EnableMca(), cancellationToken).ConfigureAwait(false);
        var started = _time.GetTimestamp();

        // The device stops itself at the preset; a hard ceiling guards against a device that never does.
        var ceiling = presetTime + presetTime + TimeSpan.FromSeconds(30);
        Dp5Status end;
        while (true)
        {
            await Task.Delay(_profile.PollInterval, _time, cancellationToken).ConfigureAwait(false);
            var status = await GetStatusAsync(cancellationToken).ConfigureAwait(false);

            // Checked before "MCA enabled": a restarted DP5 is disabled too, which would read as the preset reached.
            ThrowIfRestartedSince(restartsBefore);
            if (!status.McaEnabled || status.PresetRealTimeReached || status.PresetCountReached)
            {
                end = status;
                break;
            }

            if (_time.GetElapsedTime(started) > ceiling)
            {
                await DisableMcaAsync(cancellationToken).ConfigureAwait(false);
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"{DeviceName}: MCA still enabled {ceiling.TotalSeconds:0} s after a {presetTime.TotalSeconds:0.#} s preset; is PRET supported?"));
            }
        }

        var spectrum = await ReadSpectrumAsync(clear: false, cancellationToken).ConfigureAwait(false);
        ThrowIfRestartedSince(restartsBefore);
        ThrowIfStoppedShort(end, spectrum.Status ?? end, TimeSpan.FromSeconds(double.Parse(pret, CultureInfo.InvariantCulture)));
        RawSpectrum raw;
        try
        {
            raw = ToRawSpectrum(spectrum, string.Create(CultureInfo.InvariantCulture, $"{DeviceName}#{++_measurementIndex}"));
        }
        catch (ChannelCountMismatchException)
        {
            // The device lost or changed the profile without a restart the session could see (firmware before 6.05
            // power-cycled on a link that stayed up, another interface): this measurement fails, the next one re-applies.
            _reapplyReason ??= string.Create(CultureInfo.InvariantCulture, $"the device sent {spectrum.Counts.Length} channels, not the profile's {_profile.ChannelCount}");
            throw;
        }

        // A DP5 channel holds 3 bytes (guide rev A7 §4.2.2); the guide does not say whether a full channel sticks at
        // 16,777,215 or wraps (reference note mca-and-files.md §1.5). At that value it has either stuck (clipped) or is one
        // count from wrapping, so its count cannot be trusted: refuse it as the SPI path refuses a clipped channel. The
        // DP5 status has no saturation flag, so the counts are the only evidence.
        SpectrumSaturatedException.ThrowIfSaturated("DP5", DeviceName, raw.Counts, Dp5Spectrum.MaxChannelCount, raw.LiveTime ?? TimeSpan.Zero, flagSet: false);
        return raw;
    }

    /// <summary>
    /// Wraps a decoded spectrum with the profile's calibration and the status fields, after checking that the spectrum
    /// has the channel count that calibration is for. The PID2 of the reply says how many channels the DP5 sent (its
    /// MCAC, guide Table 2), which can differ from the profile's when another interface changed MCAC, or when a power
    /// cycle lost a RAM-only configuration and the session could not see it (firmware before 6.05 on a link that stayed up).
    /// </summary>
    /// <exception cref="ChannelCountMismatchException">The spectrum has another channel count than the profile's MCAC.</exception>
    public RawSpectrum ToRawSpectrum(Dp5Spectrum spectrum, string id)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        ChannelCountMismatchException.ThrowIfMismatched("DP5", DeviceName, spectrum.Counts.Length, _profile);
        var metadata = new Dictionary<string, string>(spectrum.Status?.ToMetadata() ?? new Dictionary<string, string>())
        {
            ["device"] = DeviceName,
            ["protocol"] = "dp5",
            ["profile"] = _profile.Name,
            ["acquired_utc"] = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        };
        return new RawSpectrum
        {
            Id = id,
            Counts = Array.ConvertAll(spectrum.Counts, c => (long)c),
            Calibration = _profile.Calibration,

            // An MCA8000D (FW 6.07+) reports live time; the DP5, PX5 and X-123 do not, and the Amptek SDK writes their
            // accumulation time as LIVE_TIME (ConsoleHelper.cpp). Until 2026-11-24 an MCA8000D got its accumulation time too.
            LiveTime = spectrum.Status?.LiveTime,
            RealTime = spectrum.Status?.RealTime,
            Metadata = metadata,
        };
    }

    /// <summary>Sends a request that is answered by ACK OK; error ACKs become <see cref="Dp5ProtocolException"/>.</summary>
    public Task ExpectAckAsync(Dp5Packet request, CancellationToken cancellationToken) =>
        ExchangeAsync(request, p => p.IsAck && p.Pid2 is (byte)Dp5AckCode.Ok or (byte)Dp5AckCode.OkSharingRequest, 0, cancellationToken);

    /// <summary>
    /// Writes <paramref name="request"/> in one write and waits for the first packet matching <paramref name="isReply"/>,
    /// with the reply time-out plus 1.5× the wire time of <paramref name="expectedDataBytes"/> at the profile's baud rate.
    /// When a packet whose header announces more data than that starts to arrive (a spectrum at a larger MCAC than the
    /// profile's: 8192 channels + status take 2.14 s at 115200 baud, guide §3.4), the wait is restarted once, sized for
    /// that packet, so the reply is received and reported for what it is rather than as a time-out.
    /// </summary>
    public async Task<Dp5Packet> ExchangeAsync(Dp5Packet request, Func<Dp5Packet, bool> isReply, int expectedDataBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(isReply);
        var bytes = request.Encode();
        var requestName = Dp5Requests.Describe(request);

        var timeout = ReplyTimeoutFor(expectedDataBytes);
        Exception? last = null;
        var attempt = 1;
        var busyReplies = 0;
        var busyWaited = TimeSpan.Zero;
        for (var send = 1; ; send++)
        {
            if (send > 1)
            {
                RetryCount++;
            }

            try
            {
                var link = await EnsureLinkAsync(cancellationToken).ConfigureAwait(false);
                (link as IDiscardableInput)?.DiscardInput();
                _decoder.Reset();
                _packets.Clear();
                await link.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                var outcome = await AwaitReplyAsync(link, requestName, isReply, expectedDataBytes, timeout, cancellationToken).ConfigureAwait(false);
                switch (outcome)
                {
                    case { Reply: { } reply }:
                        return reply;
                    case { TransientAck: Dp5AckCode.Busy }:
                        // A busy device is working, not failing: ask again after a growing wait instead of at once (which
                        // would spend every attempt within milliseconds), and without using up an attempt.
                        busyReplies++;
                        var wait = NextBusyWait(busyReplies, busyWaited);
                        if (wait <= TimeSpan.Zero)
                        {
                            throw new Dp5ProtocolException(Dp5AckCode.Busy, null, DeviceName, requestName, string.Create(
                                CultureInfo.InvariantCulture,
                                $"{DeviceName} was still busy after {busyReplies} busy replies and {busyWaited.TotalMilliseconds:0} ms of back-off (budget {BusyBackoffBudget.TotalMilliseconds:0} ms): another host or program may hold the device's interface"));
                        }

                        Log.DeviceBusy(_logger, DeviceName, requestName, busyReplies, wait.TotalMilliseconds);
                        BusyRetryCount++;
                        await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                        busyWaited += wait;
                        continue;
                    case { TransientAck: { } code }:
                        Log.TransientAck(_logger, DeviceName, requestName, code.ToString(), attempt, _profile.MaxAttempts);
                        last = new Dp5ProtocolException(code, null, DeviceName, requestName);
                        break;
                    case { Rejected: true }:
                        Log.FrameRejected(_logger, DeviceName, requestName, attempt, _profile.MaxAttempts);
                        last = new Dp5ProtocolException($"{DeviceName}: corrupt reply to {requestName}");
                        break;
                    default:
                        Log.ReplyTimedOut(_logger, DeviceName, requestName, timeout.TotalMilliseconds, attempt, _profile.MaxAttempts);
                        last = new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"{DeviceName}: no reply to {requestName} within {timeout.TotalMilliseconds:0} ms"));
                        break;
                }
            }
            catch (IOException e) when (e is not Dp5ProtocolException)
            {
                last = e;
                Log.LinkLost(_logger, DeviceName, e.Message);
                await ReconnectAsync(cancellationToken).ConfigureAwait(false);
            }

            if (++attempt > _profile.MaxAttempts)
            {
                break;
            }
        }

        throw last switch
        {
            TimeoutException t => new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"{t.Message} after {_profile.MaxAttempts} attempts; check the cable, baud rate ({_profile.BaudRate}) and that the device is powered"), t),
            Dp5ProtocolException p => p,
            _ => new IOException($"{DeviceName}: {requestName} failed after {_profile.MaxAttempts} attempts: {last?.Message}", last),
        };
    }

    /// <summary>
    /// The wait before asking again after busy reply number <paramref name="busyReplies"/> (1-based): 10 ms doubling, at
    /// most <see cref="BusyBackoffLongestWait"/>, cut to what is left of <see cref="BusyBackoffBudget"/>; zero when none is.
    /// </summary>
    private static TimeSpan NextBusyWait(int busyReplies, TimeSpan waited)
    {
        var doubling = BusyBackoffFirstWait * Math.Pow(2, Math.Min(busyReplies - 1, 16));
        var wait = doubling < BusyBackoffLongestWait ? doubling : BusyBackoffLongestWait;
        var left = BusyBackoffBudget - waited;
        return wait < left ? wait : left;
    }

    /// <summary>Reply time-out plus 1.5× the wire time of a reply with <paramref name="dataBytes"/> data bytes.</summary>
    private TimeSpan ReplyTimeoutFor(int dataBytes)
    {
        // 10 bits per byte on an 8N1 line; 1.5× margin for USB-serial latency and device buffering (guide §3.4 table).
        var wire = TimeSpan.FromSeconds((dataBytes + Dp5Packet.OverheadLength) * 10.0 / _profile.BaudRate);
        return _profile.ReplyTimeout + (wire * 1.5);
    }

    private async Task<ReplyOutcome> AwaitReplyAsync(Stream link, string requestName, Func<Dp5Packet, bool> isReply, int expectedDataBytes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var rejectedBefore = _decoder.RejectedCount;
        var extended = false;
        while (true)
        {
            int n;
            try
            {
                n = await link.ReadAsync(_readBuffer, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return default;
            }

            if (n == 0)
            {
                throw new IOException($"{DeviceName}: link closed");
            }

            _decoder.Feed(_readBuffer.AsSpan(0, n), _packets);
            foreach (var packet in _packets)
            {
                if (isReply(packet))
                {
                    _packets.Clear();
                    return new ReplyOutcome(packet, null, false);
                }

                if (packet.IsAck && (Dp5AckCode)packet.Pid2 is var code && code is not (Dp5AckCode.Ok or Dp5AckCode.OkSharingRequest))
                {
                    _packets.Clear();
                    if (Dp5ProtocolException.IsTransient(code))
                    {
                        return new ReplyOutcome(null, code, false);
                    }

                    throw new Dp5ProtocolException(code, packet.Data.Length > 0 ? Encoding.ASCII.GetString(packet.Data) : null, DeviceName, requestName);
                }

                Log.UnexpectedPacket(_logger, packet.ToString(), requestName);
            }

            _packets.Clear();
            if (_decoder.RejectedCount > rejectedBefore && _decoder.BufferedByteCount == 0)
            {
                return new ReplyOutcome(null, null, true);
            }

            // Once per attempt, so line noise cannot keep a silent device's request waiting.
            if (!extended && _decoder.PendingDataLength is { } pending && pending > expectedDataBytes)
            {
                extended = true;
                var longer = ReplyTimeoutFor(pending);
                deadline.CancelAfter(longer);
                Log.ReplyLongerThanExpected(_logger, requestName, pending, expectedDataBytes, longer.TotalMilliseconds);
            }
        }
    }

    /// <summary>
    /// Closes the link now when its device has hung up (<see cref="IHangUpSignal"/>: a USB-serial adapter pulled while no
    /// request runs); the next request reopens it through the <c>connect</c> delegate and the profile is re-applied
    /// before the next measurement. The usb-serial and cdc-acm drivers free a tty's number only when its last
    /// descriptor closes, so an adapter plugged back in while the port is still held comes back under another name
    /// (ttyUSB1 for ttyUSB0). Call it only between requests (not thread-safe, like the rest of the session).
    /// </summary>
    /// <returns>Whether the link was closed.</returns>
    public async ValueTask<bool> ReleaseLinkIfHungUpAsync()
    {
        if (_link is not IHangUpSignal { IsHungUp: true })
        {
            return false;
        }

        Log.LinkHungUpIdle(_logger, DeviceName);
        await _link.DisposeAsync().ConfigureAwait(false);
        _link = null;
        _reapplyReason ??= "the link was reopened, and the device may have been power-cycled";
        return true;
    }

    private async ValueTask<Stream> EnsureLinkAsync(CancellationToken cancellationToken)
    {
        if (_link is null)
        {
            if (_everConnected)
            {
                await ReconnectAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _link = await _connect(cancellationToken).ConfigureAwait(false);
                _everConnected = true;
            }
        }

        return _link!;
    }

    private async Task ReconnectAsync(CancellationToken cancellationToken)
    {
        if (_link is not null)
        {
            await _link.DisposeAsync().ConfigureAwait(false);
            _link = null;
        }

        var attempt = await Reconnection.ReopenAsync(
            _profile,
            _time,
            async ct => _link = await _connect(ct).ConfigureAwait(false),
            DeviceName,
            "the link",
            cancellationToken).ConfigureAwait(false);
        ReconnectCount++;
        Log.Reconnected(_logger, DeviceName, attempt);

        // A USB X-123 re-enumerates when power-cycled, and firmware before 6.05 has no restart flag: assume the worst.
        _reapplyReason ??= "the link was reopened, and the device may have been power-cycled";
    }

    /// <summary>Keeps <paramref name="status"/> as <see cref="LastStatus"/> and notes a restart it reports.</summary>
    private void Observe(Dp5Status status)
    {
        LastStatus = status;
        McaMayBeEnabled = status.McaEnabled;

        // The session's own first status may carry the flag from the power-on before it; only later ones mean a restart.
        var restarted = _statusSeen && status.FirstStatusSinceReboot;
        _statusSeen = true;
        if (restarted)
        {
            DeviceRestartCount++;
            Log.DeviceRestarted(_logger, DeviceName);
            _reapplyReason = "the device restarted (status: first since reboot)";
        }
    }

    /// <summary>
    /// Accepts the end of a measurement only when a preset ended it (<see cref="EndedByPreset"/>): a preset flag, or an
    /// accumulation time within one PRET step (0.1 s) of the PRET sent; the DP5 stops accumulating at PRET (reference
    /// note mca-and-files.md §1.4) and has no flag for it. "MCA enabled" dropping alone is also what a DP5 that
    /// restarted shows when its firmware predates the restart flag (before 6.05) on a link that stayed up, or one that
    /// another interface disabled: its spectrum is a fraction of the measurement, or empty, and would otherwise pass as
    /// complete. Such a measurement fails, and the profile is re-applied before the next one, since the device may have
    /// lost it.
    /// </summary>
    private void ThrowIfStoppedShort(Dp5Status end, Dp5Status final, TimeSpan pret)
    {
        if (EndedByPreset(end, pret) || EndedByPreset(final, pret))
        {
            return;
        }

        _reapplyReason ??= "the device stopped before its preset and may have restarted";
        throw new Dp5ProtocolException(string.Create(
            CultureInfo.InvariantCulture,
            $"{DeviceName}: DP5 stopped before its preset (accumulation time {final.AccumulationTime.TotalSeconds:0.###} s of {pret.TotalSeconds:0.###} s, no preset-count or preset-real-time flag): it was reset, power-cycled or disabled by another interface during the measurement; the spectrum is discarded"));
    }

    /// <summary>
    /// Whether <paramref name="status"/> shows a preset ended the measurement: preset count (b35 D4) or preset real time
    /// (b35 D7) reached, on an MCA8000D preset live time reached (b35 D6, which other devices use for "auto fast threshold
    /// locked"; reference note mca-and-files.md §1.6), or an accumulation time within one PRET step (0.1 s) of
    /// <paramref name="pret"/>.
    /// </summary>
    internal static bool EndedByPreset(Dp5Status status, TimeSpan pret) =>
        status.PresetCountReached || status.PresetRealTimeReached
        || (status.ReportsDeviceLiveTime && status.AutoFastThresholdLocked)
        || status.AccumulationTime >= pret - AcquisitionProfile.Dp5PresetResolution;

    private void ThrowIfRestartedSince(int restartsBefore)
    {
        if (DeviceRestartCount != restartsBefore)
        {
            throw new Dp5DeviceRestartedException("DP5", DeviceName, _profileApplied);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_link is not null)
        {
            await _link.DisposeAsync().ConfigureAwait(false);
            _link = null;
        }
    }

    private readonly record struct ReplyOutcome(Dp5Packet? Reply, Dp5AckCode? TransientAck, bool Rejected);
}
