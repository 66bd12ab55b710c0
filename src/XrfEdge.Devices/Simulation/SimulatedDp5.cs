using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XrfEdge.Devices.Amptek;
using XrfEdge.Spectra;

namespace XrfEdge.Devices.Simulation;

/// <summary>
/// A simulated Amptek DP5 answering the FW6 protocol on a <see cref="Stream"/> (a pty master, a memory link):
/// status (01/01), spectra with and without status and the clear forms (02/01–02/04), clear/enable/disable
/// (F0/01–03), text configuration saved and not saved (20/02, 20/04) with the guide's error ACKs for unknown
/// commands, bad values and HVSE/TECS without a PC5, read-back (20/03 → 82/07, "??" for unknown), echo (F1/7F)
/// and ACK tests (F1/00–0F). PRET stops the MCA when the accumulation time reaches it (status b35 D5 drops),
/// measured on the given <see cref="TimeProvider"/>. Spectra come from a pluggable source, scaled by
/// accumulated time. Faults from <see cref="SimulatedDp5Options.Fault"/> are injected into every n-th reply.
/// <see cref="PowerCycle"/> returns it to its power-on state, as a battery swap or brown-out would.
/// </summary>
public sealed class SimulatedDp5
{
    private static readonly string[] KnownCommands =
    [
        "RESC", "CLCK", "TPEA", "GAIN", "GAIA", "GAIF", "RESL", "TFLA", "TPFA", "RTDE", "MCAS", "RTDD", "RTDW", "MCAC",
        "SOFF", "THSL", "THFA", "TLLD", "PRET", "PRER", "PREC", "MCAE", "PURE", "INOF", "BLRM", "BLRD", "BLRU", "AINP",
        "CUSP", "PDMD", "HVSE", "TECS", "AUO1", "GATE", "POL", "DACO", "DACF", "SCOE", "SCOT", "SCOG", "MCSL", "MCSH", "MCST",
    ];

    /// <summary>Firmware that sets status b36 D5 "first status since reboot" (guide §4.2.1, status byte 36: FW6.05+).</summary>
    private static readonly Version FirstStatusFlagFirmware = new(6, 5);

    private readonly SimulatedDp5Options _options;
    private readonly Func<SimulatedSpectrumRequest, RawSpectrum> _source;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly Dictionary<string, string> _config = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private bool _enabled;
    private TimeSpan _accumulated;
    private TimeSpan _real;
    private long _lastTick;
    private long _measurementIndex = -1;
    private long[]? _full;
    private TimeSpan _fullDuration;
    private long _replyNumber;
    private bool _firstStatus = true;

    /// <summary>Creates a simulator in its power-on state (MCAC=1024, PRET=OFF, MCA disabled).</summary>
    /// <param name="options">Identity and fault injection.</param>
    /// <param name="spectrumSource">Produces the spectrum of a measurement; the synthetic generator in the service, <see cref="ExampleSpectrumSource"/> otherwise.</param>
    /// <param name="timeProvider">Clock for accumulation, preset and slow-reply delays.</param>
    /// <param name="logger">Optional logger.</param>
    public SimulatedDp5(SimulatedDp5Options options, Func<SimulatedSpectrumRequest, RawSpectrum> spectrumSource, TimeProvider timeProvider, ILogger? logger = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _source = spectrumSource ?? throw new ArgumentNullException(nameof(spectrumSource));
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _random = new Random(unchecked((int)options.Seed));
        _lastTick = _time.GetTimestamp();
        ResetConfiguration();
    }

    /// <summary>Current configuration (command → value), as read-back would report it.</summary>
    public IReadOnlyDictionary<string, string> Configuration
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, string>(_config);
            }
        }
    }

    /// <summary>Number of configuration commands received, by name (tests check HVSE/TECS are never sent).</summary>
    public IReadOnlyDictionary<string, int> CommandsReceived => _commandsReceived;

    private readonly Dictionary<string, int> _commandsReceived = new(StringComparer.Ordinal);

    /// <summary>Requests handled so far.</summary>
    public long RequestCount { get; private set; }

    /// <summary>
    /// Whether the MCA is counting now (status b35 D5 "MCA enabled"): false before an enable, after a disable (F0/03)
    /// and once PRET is reached. Tests read it to see that a cancelled acquisition left the MCA stopped.
    /// </summary>
    public bool McaEnabled
    {
        get
        {
            lock (_gate)
            {
                Advance();
                return _enabled;
            }
        }
    }

    /// <summary>Accumulation time so far (status bytes 8–11), on the simulator's clock.</summary>
    public TimeSpan AccumulationTime
    {
        get
        {
            lock (_gate)
            {
                Advance();
                return _accumulated;
            }
        }
    }

    /// <summary>Disable requests (F0/03, "Disable MCA/MCS") received so far.</summary>
    public int DisableRequestCount
    {
        get
        {
            lock (_gate)
            {
                return _disableRequests;
            }
        }
    }

    private int _disableRequests;

    private long _busyRepliesLeft;

    /// <summary>Busy ACKs (0x0D) sent so far in place of a reply (<see cref="AnswerBusy"/>).</summary>
    public long BusyRepliesSent
    {
        get
        {
            lock (_gate)
            {
                return _busyRepliesSent;
            }
        }
    }

    private long _busyRepliesSent;

    /// <summary>
    /// Answers the next <paramref name="requests"/> requests, whatever they are, with ACK 0x0D "busy" and nothing else, as a
    /// DP5 does while another interface is in use or (FW6.08+) sequential buffering runs (guide rev A7 Table 3).
    /// <see cref="long.MaxValue"/> keeps it busy for good.
    /// </summary>
    public void AnswerBusy(long requests)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requests);
        lock (_gate)
        {
            _busyRepliesLeft = requests;
        }
    }

    /// <summary>
    /// Returns the device to its power-on state, as a battery swap, brown-out or replugged USB X-123 would: the
    /// configuration back to its defaults (a RAM-only 20/04 configuration is lost, guide §4.1.18), MCA disabled,
    /// spectrum and times cleared, and the next status flagged "first status since reboot" (b36 D5, FW6.05+, when
    /// <see cref="SimulatedDp5Options.FirmwareVersion"/> has it). The link is not touched: drop it separately to model a
    /// USB device that re-enumerates.
    /// </summary>
    public void PowerCycle()
    {
        lock (_gate)
        {
            ResetConfiguration();
            _enabled = false;
            _accumulated = TimeSpan.Zero;
            _real = TimeSpan.Zero;
            _full = null;
            _lastTick = _time.GetTimestamp();
            _firstStatus = true;
        }
    }

    /// <summary>Serves requests on <paramref name="link"/> until it closes, is cancelled, or a Disconnect fault drops it.</summary>
    public async Task<SimulatedLinkEnd> ServeAsync(Stream link, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(link);
        var decoder = new Dp5PacketDecoder();
        var packets = new List<Dp5Packet>();
        var buffer = new byte[4096];
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var n = await link.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return SimulatedLinkEnd.Closed;
                }

                decoder.Feed(buffer.AsSpan(0, n), packets);
                foreach (var request in packets)
                {
                    RequestCount++;
                    Log.SimulatorRequest(_logger, request.ToString());
                    var reply = Handle(request);
                    if (reply is not null && !await SendAsync(link, reply, cancellationToken).ConfigureAwait(false))
                    {
                        return SimulatedLinkEnd.Disconnected;
                    }
                }

                packets.Clear();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
        }

        return SimulatedLinkEnd.Closed;
    }

    /// <summary>Answers one request (null: no reply, as for a request the DP5 would ignore).</summary>
    public Dp5Packet? Handle(Dp5Packet request)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            Advance();
            if (_busyRepliesLeft > 0)
            {
                _busyRepliesLeft--;
                _busyRepliesSent++;
                return Ack(Dp5AckCode.Busy);
            }

            return (request.Pid1, request.Pid2) switch
            {
                (0x01, 0x01) when request.Data.Length == 0 => new Dp5Packet(0x80, 0x01, BuildStatus().Encode()),
                (0x02, >= 0x01 and <= 0x04) when request.Data.Length == 0 => SpectrumReply(request.Pid2),
                (0xF0, 0x01) => Clear(),
                (0xF0, 0x02) => SetEnabled(true),
                (0xF0, 0x03) => Disable(),
                (0x20, 0x02 or 0x04) => Configure(Encoding.ASCII.GetString(request.Data)),
                (0x20, 0x03) => ReadBack(Encoding.ASCII.GetString(request.Data)),
                (0xF1, 0x7F) => new Dp5Packet(0x8F, 0x7F, request.Data),
                (0xF1, <= 0x0F) => new Dp5Packet(0xFF, request.Pid2),
                (0x01 or 0x02, _) => Ack(Dp5AckCode.LengthError),
                _ => Ack(Dp5AckCode.PidError),
            };
        }
    }

    private static Dp5Packet Ack(Dp5AckCode code, string? echo = null) =>
        new(0xFF, (byte)code, echo is null ? [] : Encoding.ASCII.GetBytes(echo));

    private void ResetConfiguration()
    {
        _config.Clear();
        _config["MCAC"] = "1024";
        _config["PRET"] = "OFF";
        _config["GAIN"] = "10.000";
        _config["TPEA"] = "4.000";
        _config["CLCK"] = "80";
        _config["MCAE"] = "OFF";
    }

    private int Channels => int.Parse(_config["MCAC"], CultureInfo.InvariantCulture);

    private TimeSpan? Preset => _config["PRET"] is "OFF" or "0" or "0.0" ? null
        : TimeSpan.FromSeconds(double.Parse(_config["PRET"], CultureInfo.InvariantCulture));

    private void Advance()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_lastTick, now);
        _lastTick = now;
        if (!_enabled)
        {
            return;
        }

        _real += elapsed;
        _accumulated += elapsed;
        if (Preset is { } preset && _accumulated >= preset)
        {
            _real -= _accumulated - preset;
            _accumulated = preset;
            _enabled = false;
        }
    }

    private Dp5Packet Clear()
    {
        _accumulated = TimeSpan.Zero;
        _real = TimeSpan.Zero;
        _full = null;
        return Ack(Dp5AckCode.Ok);
    }

    private Dp5Packet SetEnabled(bool enabled)
    {
        // Enable resumes without clearing; at a reached preset it stays stopped until cleared (guide §4.1.22).
        _enabled = enabled && !(Preset is { } preset && _accumulated >= preset);
        _config["MCAE"] = _enabled ? "ON" : "OFF";
        return Ack(Dp5AckCode.Ok);
    }

    private Dp5Packet Disable()
    {
        _disableRequests++;
        return SetEnabled(false);
    }

    private Dp5Packet Configure(string text)
    {
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? part : part[..eq];
            var value = eq < 0 ? string.Empty : part[(eq + 1)..];
            _commandsReceived[name] = _commandsReceived.GetValueOrDefault(name) + 1;
            if (Array.IndexOf(KnownCommands, name) < 0)
            {
                return Ack(Dp5AckCode.UnrecognisedCommand, part);
            }

            if (eq < 0 || value.Length is 0 or > 10 || part.Any(c => c is ' ' or '\r' or '\n'))
            {
                return Ack(Dp5AckCode.BadParameter, part);
            }

            if (name is "HVSE" or "TECS" && !_options.HasPc5)
            {
                return Ack(Dp5AckCode.Pc5NotPresent, part);
            }

            switch (name)
            {
                case "RESC":
                    ResetConfiguration();
                    continue;
                case "MCAC" when value is not ("256" or "512" or "1024" or "2048" or "4096" or "8192"):
                    return Ack(Dp5AckCode.BadParameter, part);
                case "PRET" when value != "OFF" && !(double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s is >= 0 and <= 99_999_999):
                    return Ack(Dp5AckCode.BadParameter, part);
                case "MCAC":
                    _full = null;
                    break;
                case "MCAE":
                    _enabled = value == "ON";
                    break;
                default:
                    break;
            }

            _config[name] = value;
        }

        return Ack(Dp5AckCode.Ok);
    }

    private Dp5Packet ReadBack(string text)
    {
        var reply = new StringBuilder();
        foreach (var raw in text.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = raw.Replace("=?", string.Empty, StringComparison.Ordinal);
            reply.Append(name).Append('=').Append(_config.TryGetValue(name, out var v) ? v : "??").Append(';');
        }

        return new Dp5Packet(0x82, 0x07, Encoding.ASCII.GetBytes(reply.ToString()));
    }

    private Dp5Packet SpectrumReply(byte pid2)
    {
        var counts = CurrentCounts();
        var withStatus = pid2 is 0x03 or 0x04;
        var packet = new Dp5Spectrum(counts, withStatus ? BuildStatus() : null).Encode();
        if (pid2 is 0x02 or 0x04)
        {
            // "Request and clear": counters restart in the same step, the enabled state is kept (guide §4.1.2).
            _accumulated = TimeSpan.Zero;
            _real = TimeSpan.Zero;
            _full = null;
        }

        return packet;
    }

    private int[] CurrentCounts()
    {
        var channels = Channels;
        if (_full is null || _full.Length != channels)
        {
            _measurementIndex++;
            _fullDuration = Preset ?? _options.DefaultDuration;
            var spectrum = _source(new SimulatedSpectrumRequest(_measurementIndex, channels, _fullDuration));
            _full = EnergyResampler.Resample(spectrum, _options.DetectorCalibration(channels), channels);
        }

        var fraction = _fullDuration > TimeSpan.Zero ? _accumulated / _fullDuration : 0;
        var counts = new int[channels];
        for (var channel = 0; channel < channels; channel++)
        {
            counts[channel] = (int)Math.Min(Dp5Spectrum.MaxChannelCount, Math.Floor(_full[channel] * fraction));
        }

        return counts;
    }

    private Dp5Status BuildStatus()
    {
        var counts = _full is null ? 0 : (long)(_full.Sum() * (_fullDuration > TimeSpan.Zero ? _accumulated / _fullDuration : 0));
        var status = new Dp5Status
        {
            SlowCount = (uint)Math.Min(uint.MaxValue, counts),

            // About 4 % of fast-channel events pile up and never reach the spectrum at the example's rates.
            FastCount = (uint)Math.Min(uint.MaxValue, counts * 104 / 100),
            AccumulationTime = TimeSpan.FromMilliseconds(Math.Floor(_accumulated.TotalMilliseconds)),
            RealTime = TimeSpan.FromMilliseconds(Math.Floor(_real.TotalMilliseconds)),
            FirmwareVersion = _options.FirmwareVersion,
            FpgaVersion = new Version(6, 11),
            SerialNumber = _options.SerialNumber,
            HighVoltageVolts = _options.HasPc5 ? -130 : 0,
            DetectorTemperatureKelvin = 226.5,
            BoardTemperatureCelsius = 38,
            McaEnabled = _enabled,
            Configured = true,
            GateInactive = true,
            PresetRealTimeReached = false,
            FirstStatusSinceReboot = _firstStatus && _options.FirmwareVersion >= FirstStatusFlagFirmware,
            Clock80MHz = true,
            PowerBoardFlags = (byte)(_options.HasPc5 ? 0x80 : 0),
            DeviceType = _options.DeviceType,
        };
        _firstStatus = false;
        return status;
    }

    /// <summary>Writes a reply, applying the configured fault; false when the link was dropped on purpose.</summary>
    private async Task<bool> SendAsync(Stream link, Dp5Packet reply, CancellationToken cancellationToken)
    {
        var bytes = reply.Encode();
        var number = ++_replyNumber;
        var fault = _options.Fault != SimulatedFault.None && number % Math.Max(1, _options.FaultEvery) == 0 ? _options.Fault : SimulatedFault.None;
        if (fault != SimulatedFault.None)
        {
            Log.SimulatorFault(_logger, fault.ToString(), number);
        }

        switch (fault)
        {
            case SimulatedFault.Garbage:
            {
                var garbage = new byte[_random.Next(1, 41)];
                _random.NextBytes(garbage);
                for (var i = 0; i < garbage.Length; i++)
                {
                    garbage[i] = garbage[i] == Dp5Packet.Sync1 ? (byte)0x00 : garbage[i];
                }

                await WritePacedAsync(link, garbage, cancellationToken).ConfigureAwait(false);
                break;
            }

            case SimulatedFault.DroppedBytes:
            {
                var at = bytes.Length / 2;
                bytes = [.. bytes.AsSpan(0, at), .. bytes.AsSpan(at + 1)];
                break;
            }

            case SimulatedFault.BadChecksum:
                bytes[^1] ^= 0x5A;
                break;
            case SimulatedFault.SlowReplies:
                await Task.Delay(_options.SlowReplyDelay, _time, cancellationToken).ConfigureAwait(false);
                break;
            case SimulatedFault.Disconnect:
                await WritePacedAsync(link, bytes.AsMemory(0, bytes.Length / 2), cancellationToken).ConfigureAwait(false);
                return false;
            case SimulatedFault.ErrorAcks:
                bytes = Ack(number % 2 == 0 ? Dp5AckCode.Busy : Dp5AckCode.ChecksumError).Encode();
                break;
            default:
                break;
        }

        await WritePacedAsync(link, bytes, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task WritePacedAsync(Stream link, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (_options.PaceBaudRate is not { } baud)
        {
            await link.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Release bytes no faster than the UART would (10 bits per byte, 8N1), in 64-byte slices, each
        // only once its last bit would have arrived: the receiver can never be ahead of the wire.
        var start = _time.GetTimestamp();
        for (var sent = 0; sent < bytes.Length;)
        {
            var n = Math.Min(64, bytes.Length - sent);
            var due = TimeSpan.FromSeconds((sent + n) * 10.0 / baud) - _time.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, _time, cancellationToken).ConfigureAwait(false);
            }

            await link.WriteAsync(bytes.Slice(sent, n), cancellationToken).ConfigureAwait(false);
            sent += n;
        }
    }
}
