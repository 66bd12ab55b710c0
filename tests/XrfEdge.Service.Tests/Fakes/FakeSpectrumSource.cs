using XrfEdge.Service.Pipeline;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Service.Tests.Fakes;

/// <summary>A spectrum source that returns at once, or holds each acquisition until <see cref="Complete"/> (to test aborts).</summary>
internal sealed class FakeSpectrumSource : ISpectrumSource
{
    private readonly SemaphoreSlim _started = new(0);
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _acquired;
    private int _begun;

    /// <summary>When true each acquisition waits for <see cref="Complete"/> or cancellation.</summary>
    public bool Hold { get; set; }

    /// <summary>After this many spectra the source reports exhaustion (null = never).</summary>
    public int? Limit { get; set; }

    /// <summary>When set, each acquisition throws what this returns (a device error), unless it returns null.</summary>
    public Func<Exception?>? Fail { get; set; }

    /// <summary>Called when a held acquisition sees its cancellation (the MCA being told to stop), before it ends.</summary>
    public Action? Cancelled { get; set; }

    public int Acquired => Volatile.Read(ref _acquired);

    /// <summary>Acquisitions begun (held, failed and cancelled ones included).</summary>
    public int Begun => Volatile.Read(ref _begun);

    public bool Opened { get; private set; }

    public string Description => "fake source";

    public Task OpenAsync(CancellationToken cancellationToken)
    {
        Opened = true;
        return Task.CompletedTask;
    }

    public async Task<RawSpectrum?> AcquireAsync(string measurementId, TimeSpan preset, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _begun);
        _started.Release();
        if (Hold)
        {
            try
            {
                await _release.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Cancelled?.Invoke();
                throw;
            }

            _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (Fail?.Invoke() is { } error)
        {
            throw error;
        }

        if (Limit is { } limit && Acquired >= limit)
        {
            return null;
        }

        Interlocked.Increment(ref _acquired);
        return Spectrum(measurementId);
    }

    /// <summary>Waits until an acquisition has begun.</summary>
    public Task<bool> WaitStartedAsync() => _started.WaitAsync(TimeSpan.FromSeconds(10));

    public void Complete() => _release.TrySetResult();

    public ValueTask DisposeAsync()
    {
        _started.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>2048 channels at 15 eV/channel (the default Calibration of the profiles) with a flat 10 counts per channel.</summary>
    public static RawSpectrum Spectrum(string id) => new()
    {
        Id = id,
        Counts = Enumerable.Repeat(10L, 2048).ToArray(),
        Calibration = new EnergyCalibration(0, 0.015),
        LiveTime = TimeSpan.FromSeconds(1),
        RealTime = TimeSpan.FromSeconds(1),
    };
}
