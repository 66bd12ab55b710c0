using Microsoft.Extensions.Logging;
using XrfEdge.Devices.Acquisition;
using XrfEdge.Devices.Amptek;
using XrfEdge.Devices.Native;
using XrfEdge.Spectra;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// An Amptek DP5-protocol MCA (DP5, X-123, PX5, or the simulator on a pty) on a serial device. Opening connects,
/// reads the status and applies the profile's DP5 configuration. A DP5 that cannot be reached then (no device node,
/// no answer, busy with another interface beyond the session's back-off) does not fail start-up (<see cref="SourceNotConnectedException"/>): a portable analyser's DP5 is often
/// switched on, or its adapter plugged in, after the service started, and each measurement connects and applies the
/// profile until that has succeeded once. A DP5 that answers but refuses the profile still fails start-up. An aborted
/// measurement disables the MCA at once (guide: "Disable MCA/MCS" request) so the detector does not keep counting for a
/// result nobody wants, when it may be counting (<see cref="Dp5Session.McaMayBeEnabled"/>); one aborted before its
/// enable has nothing to disable. The first connection after a start-up without the DP5 raises
/// <see cref="ConnectedLate"/>. Between measurements the source checks once a second whether the port hung up (a
/// USB-serial adapter pulled) and closes it at once (<see cref="Dp5Session.ReleaseLinkIfHungUpAsync"/>), so that the adapter
/// plugged back in gets its old name again; one measurement or check at a time holds the session.
/// </summary>
internal sealed class Dp5SpectrumSource : ISpectrumSource
{
    /// <summary>
    /// Time allowed for the disable request after an abort: a few reply time-outs (500 ms default each). Spent only when
    /// the MCA may be counting (<see cref="Dp5Session.McaMayBeEnabled"/>); the X-ray warning stays on meanwhile, since the
    /// exposure has not ended for sure until the DP5 acknowledges.
    /// </summary>
    private static readonly TimeSpan DisableBudget = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often an idle source checks its port for a hang-up: 1 s, shorter than a person takes to pull an adapter and
    /// plug it back in, and one <c>poll(2)</c> each time.
    /// </summary>
    private static readonly TimeSpan IdleCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>Held by a measurement or an idle check: the session is not thread-safe.</summary>
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopChecking = new();
    private readonly TimeProvider _time;
    private Task? _idleChecks;

    private readonly AcquisitionProfile _profile;
    private readonly Dp5Session _session;
    private SerialPort? _port;

    /// <summary>Whether the DP5 answered and took the profile once; until then each measurement connects first.</summary>
    private bool _connected;

    /// <summary>Set when <see cref="OpenAsync"/> could not connect; the first connection after it raises <see cref="ConnectedLate"/>.</summary>
    private bool _deferred;

    public Dp5SpectrumSource(AcquisitionProfile profile, TimeProvider time, ILogger logger)
    {
        _profile = profile;
        _time = time;
        string device = profile.Device ?? throw new ArgumentException("the profile names no device", nameof(profile));
        _session = new Dp5Session(device, OpenLinkAsync, profile, time, logger);
    }

    public string Description => $"DP5 on {_profile.Device} at {_profile.BaudRate} baud";

    public event Action? ConnectedLate;

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        _idleChecks ??= CheckIdleLinkAsync(_stopChecking.Token);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsUnreachable(e))
        {
            _deferred = true;
            throw new SourceNotConnectedException($"{Description}: not reachable at start-up: {e.Message.TrimEnd('.')}. Each measurement tries to connect again.", e);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> TryConnectAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_connected)
            {
                await ConnectAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        catch (Exception e) when (IsUnreachable(e))
        {
            return false;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<RawSpectrum?> AcquireAsync(string measurementId, TimeSpan preset, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await MeasureAsync(measurementId, preset, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<RawSpectrum?> MeasureAsync(string measurementId, TimeSpan preset, CancellationToken cancellationToken)
    {
        try
        {
            if (!_connected)
            {
                await ConnectAsync(cancellationToken).ConfigureAwait(false);
            }

            var spectrum = await _session.MeasureAsync(preset, cancellationToken).ConfigureAwait(false);
            return spectrum with { Id = measurementId };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Only an MCA that may be counting is told to stop: an enable request went out (acknowledged or not) or a
            // status said enabled. Before that (connecting, applying the profile, PRET, clear) there is nothing to
            // disable, and until 2026-11-24 a stop while connecting to a DP5 that never answered spent the whole budget
            // on a disable nobody would acknowledge, with the X-ray warning on (AcquisitionWorker switches it off when
            // this returns).
            if (_session.McaMayBeEnabled)
            {
                using var budget = new CancellationTokenSource(DisableBudget, _time);
                try
                {
                    await _session.DisableMcaAsync(budget.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or TimeoutException or Dp5ProtocolException)
                {
                    // The abort is recorded either way; the next measurement starts with a clear + enable.
                }
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopChecking.CancelAsync().ConfigureAwait(false);
        if (_idleChecks is { } checks)
        {
            await checks.ConfigureAwait(false);
        }

        await _session.DisposeAsync().ConfigureAwait(false);
        _port?.Dispose();
        _stopChecking.Dispose();
        _gate.Dispose();
    }

    /// <summary>Once every <see cref="IdleCheckInterval"/>, when no measurement holds the session, closes a hung-up port.</summary>
    private async Task CheckIdleLinkAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(IdleCheckInterval, _time, cancellationToken).ConfigureAwait(false);
                if (!await _gate.WaitAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false))
                {
                    continue; // a measurement runs: it meets a hang-up itself
                }

                try
                {
                    await _session.ReleaseLinkIfHungUpAsync().ConfigureAwait(false);
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    /// <summary>
    /// A DP5 that may still come: no device node, no permission, no answer, or busy with another interface beyond the
    /// session's back-off. One that answers with any other error (it refuses the profile) is not.
    /// </summary>
    private static bool IsUnreachable(Exception e) =>
        e is (IOException and not Dp5ProtocolException) or Dp5ProtocolException { AckCode: Dp5AckCode.Busy }
            or TimeoutException or UnauthorizedAccessException;

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        await _session.ConnectAsync(cancellationToken).ConfigureAwait(false);
        await _session.ApplyProfileAsync(cancellationToken).ConfigureAwait(false);
        _connected = true;
        if (_deferred)
        {
            _deferred = false;
            ConnectedLate?.Invoke();
        }
    }

    private ValueTask<Stream> OpenLinkAsync(CancellationToken cancellationToken)
    {
        _port?.Dispose();
        _port = new SerialPort(_profile.Device!, _profile.BaudRate);
        _port.Open();
        return ValueTask.FromResult(_port.BaseStream);
    }
}
