using System.Globalization;
using Microsoft.Extensions.Logging;
using XrfEdge.Devices.Acquisition;
using XrfEdge.Devices.Gpio;
using XrfEdge.Devices.Spi;
using XrfEdge.Service.Hosting;
using XrfEdge.Spectra;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// An MCA speaking the XrfEdge SPI frame protocol (docs/spi-mca-protocol.md) on a spidev node, with its optional
/// data-ready output on a GPIO input. Opening configures the bus (mode, 8 bits, clock), requests the data-ready line
/// and checks the MCA answers (a STOP, which is harmless in any state). When the bus or the line fails mid-run
/// (EIO after the MCA lost power, an unbound driver) the device is closed and reopened, like the DP5 serial source:
/// <see cref="AcquisitionProfile.ReconnectAttempts"/> attempts, <see cref="AcquisitionProfile.ReconnectDelay"/> apart,
/// then the measurement is repeated from its CLEAR once. An MCA reset during the measurement (the client's
/// <see cref="SpiProtocolException"/> without a NACK code: short of the preset, or the snapshot sequence went back) takes
/// the same path. Not repeated: a NACK with a code, a <see cref="ChannelCountMismatchException"/> or a
/// <see cref="SpectrumSaturatedException"/>, which reopening cannot fix; the measurement fails. An aborted measurement
/// (cancellation) sends STOP at once so the MCA does not keep counting for a result nobody wants; the STOP comes after
/// the client has given up on the measurement, so it is never read as a reset.
/// </summary>
internal sealed class SpiSpectrumSource : ISpectrumSource
{
    /// <summary>Time allowed for the STOP after an abort: a few reply time-outs (200–500 ms each in the profiles).</summary>
    private static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(2);

    private readonly AcquisitionProfile _profile;
    private readonly string _device;
    private readonly int? _dataReadyLine;
    private readonly string _dataReadyChip;
    private readonly bool _dataReadyActiveLow;
    private readonly DeviceOpeners _openers;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private SpiDevice? _spi;
    private GpioChip? _chip;
    private GpioDataReadyLine? _ready;
    private SpiMcaClient? _client;

    /// <summary>
    /// Whether the client closed last may have left the MCA counting (its <see cref="SpiMcaClient.MayBeCounting"/>): the
    /// next client opened starts with that, so an abort after a reopening mid-measurement still sends STOP.
    /// </summary>
    private bool _closedWhileCounting;

    /// <summary>Creates the source; nothing is opened before <see cref="OpenAsync"/>.</summary>
    /// <param name="profile">Device path, SPI mode and clock, time-outs, attempts, reconnect policy and calibration.</param>
    /// <param name="dataReadyLine">Data-ready line offset on <paramref name="dataReadyChip"/>, or null to poll.</param>
    /// <param name="dataReadyChip">GPIO chip path of the data-ready line.</param>
    /// <param name="dataReadyActiveLow">True when ready reads electrically low.</param>
    /// <param name="openers">The device nodes (the kernel's in the product).</param>
    /// <param name="time">Clock for every wait.</param>
    /// <param name="logger">Device log.</param>
    public SpiSpectrumSource(AcquisitionProfile profile, int? dataReadyLine, string dataReadyChip, bool dataReadyActiveLow, DeviceOpeners openers, TimeProvider time, ILogger logger)
    {
        _profile = profile;
        _device = profile.Device ?? throw new ArgumentException("the profile names no device", nameof(profile));
        _dataReadyLine = dataReadyLine;
        _dataReadyChip = dataReadyChip;
        _dataReadyActiveLow = dataReadyActiveLow;
        _openers = openers;
        _time = time;
        _logger = logger;
    }

    /// <summary>Link reopenings since start (for tests and status).</summary>
    public int ReconnectCount { get; private set; }

    public string Description => string.Create(
        CultureInfo.InvariantCulture,
        $"SPI MCA on {_device} (mode {_profile.SpiMode}, {_profile.SpiMaxSpeedHz} Hz, {(_dataReadyLine is { } line ? $"data-ready on {_dataReadyChip} line {line}" : "polled")})");

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        Open();
        await _client!.CommandAsync(new SpiCommand(SpiOpcode.Stop), 0, cancellationToken).ConfigureAwait(false);
    }

    public async Task<RawSpectrum?> AcquireAsync(string measurementId, TimeSpan preset, CancellationToken cancellationToken)
    {
        for (var retried = false; ; retried = true)
        {
            try
            {
                if (_client is null)
                {
                    await ReconnectAsync(cancellationToken).ConfigureAwait(false);
                }

                var spectrum = await _client!.MeasureAsync(preset, cancellationToken).ConfigureAwait(false);
                return spectrum with { Id = measurementId };
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await StopQuietlyAsync().ConfigureAwait(false);
                throw;
            }
            catch (IOException ex) when (!retried && ex is not (SpiProtocolException { NackCode: not null } or ChannelCountMismatchException or SpectrumSaturatedException))
            {
                // The bus or the line failed (an ioctl error, or no answer after every attempt), or the MCA was reset
                // during the measurement (stopped short of the preset, snapshot sequence went back): reopen and measure
                // again once. A NACK with a code is the MCA refusing the command, a channel count other than the
                // profile's MCAC is the MCA's firmware, and a saturated spectrum saturates again at the same preset and
                // tube current: reopening would change none of them.
                Log.SpiLinkLost(_logger, _device, ex.Message);
                Close();
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }

    private void Open()
    {
        var ioctl = _openers.OpenSpi(_device);
        try
        {
            _spi = new SpiDevice(ioctl, _profile.SpiMode, _profile.SpiMaxSpeedHz);
        }
        catch
        {
            ioctl.Dispose();
            throw;
        }

        if (_dataReadyLine is { } offset)
        {
            try
            {
                _chip = _openers.OpenGpioChip(_dataReadyChip);
                _ready = new GpioDataReadyLine(_chip, offset, _dataReadyActiveLow);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException)
            {
                Close();
                throw new IOException($"SPI data-ready line {offset} on {_dataReadyChip}: {ex.Message}", ex);
            }
        }

        _client = new SpiMcaClient(_device, _spi, _profile, _time, _ready, _logger);
        if (_closedWhileCounting)
        {
            // The MCA counted on through the lost link: until 2026-11-24 the reopened client began with "may be counting"
            // false, and an abort before its own START left the first START's preset running.
            _client.AssumeMayBeCounting();
            _closedWhileCounting = false;
        }
    }

    private async Task ReconnectAsync(CancellationToken cancellationToken)
    {
        var attempt = await Reconnection.ReopenAsync(
            _profile,
            _time,
            _ =>
            {
                Open();
                return ValueTask.CompletedTask;
            },
            _device,
            "the SPI MCA",
            cancellationToken).ConfigureAwait(false);
        ReconnectCount++;
        Log.SpiReconnected(_logger, _device, attempt);
    }

    private async Task StopQuietlyAsync()
    {
        // Before START there is nothing to stop: an abort while CLEAR waited on a silent MCA spent the STOP's whole
        // budget (2 s) with the X-ray warning on, until 2026-11-24.
        if (_client is not { MayBeCounting: true })
        {
            return;
        }

        using var budget = new CancellationTokenSource(StopBudget, _time);
        try
        {
            await _client.CommandAsync(new SpiCommand(SpiOpcode.Stop), 0, budget.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or TimeoutException)
        {
            // The abort is recorded either way; the next measurement starts with CLEAR + START.
        }
    }

    private void Close()
    {
        _closedWhileCounting |= _client is { MayBeCounting: true };
        _client = null;
        _ready?.Dispose();
        _ready = null;
        _chip?.Dispose();
        _chip = null;
        _spi?.Dispose();
        _spi = null;
    }
}
