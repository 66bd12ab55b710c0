using BenchmarkDotNet.Attributes;
using XrfEdge.Devices.Acquisition;
using XrfEdge.Devices.Amptek;
using XrfEdge.Devices.Native;
using XrfEdge.Devices.Simulation;
using XrfEdge.Spectra.Calibration;

namespace XrfEdge.Bench;

/// <summary>
/// DP5 frame decoder throughput: 4 MiB of 8192-channel spectrum + status packets (24,648 bytes each, the
/// largest everyday reply) fed in 4096-byte reads, and 4 MiB of sync-free noise (the hunting path).
/// MB/s = 4.194304 / mean seconds.
/// </summary>
[MemoryDiagnoser]
public class Dp5DecoderBenchmarks
{
    private const int StreamBytes = 4 * 1024 * 1024;
    private readonly List<Dp5Packet> _output = new(256);
    private byte[] _packets = [];
    private byte[] _noise = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var counts = Enumerable.Range(0, 8192).Select(_ => random.Next(0, 100_000)).ToArray();
        var packet = new Dp5Spectrum(counts, new Dp5Status { SlowCount = 1 }).Encode().Encode();
        _packets = new byte[StreamBytes];
        for (var offset = 0; offset < StreamBytes; offset += packet.Length)
        {
            packet.AsSpan(0, Math.Min(packet.Length, StreamBytes - offset)).CopyTo(_packets.AsSpan(offset));
        }

        _noise = new byte[StreamBytes];
        random.NextBytes(_noise);
        for (var i = 0; i < _noise.Length; i++)
        {
            _noise[i] = _noise[i] == Dp5Packet.Sync1 ? (byte)0 : _noise[i];
        }
    }

    [Benchmark(Description = "decode 4 MiB of 8192-ch spectrum packets")]
    public int DecodeSpectra() => Feed(_packets);

    [Benchmark(Description = "decode 4 MiB of noise")]
    public int DecodeNoise() => Feed(_noise);

    private int Feed(byte[] stream)
    {
        var decoder = new Dp5PacketDecoder();
        var total = 0;
        for (var offset = 0; offset < stream.Length; offset += 4096)
        {
            decoder.Feed(stream.AsSpan(offset, Math.Min(4096, stream.Length - offset)), _output);
            total += _output.Count;
            _output.Clear();
        }

        return total;
    }
}

/// <summary>
/// End-to-end read of an 8192-channel spectrum + status (request 02/03 → 24,648-byte reply) through the
/// termios serial port, the session and the decoder, from the simulated DP5 on a real pty — once with the
/// simulator pacing bytes at 115200 baud (the wire limit is 24,648 × 10 bit / 115,200 = 2.14 s, guide §3.4),
/// once unpaced (the software's own cost).
/// </summary>
[WarmupCount(1)]
[IterationCount(5)]
[InvocationCount(1, 1)]
public class Dp5EndToEndBenchmarks : IDisposable
{
    private readonly string _link = Path.Combine(Path.GetTempPath(), $"xrfedge-bench-{Environment.ProcessId}");
    private CancellationTokenSource? _stop;
    private Dp5Session? _session;

    [Params(true, false)]
    public bool PacedAt115200 { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _stop = new CancellationTokenSource();
        var options = new SimulatedDp5Options { PaceBaudRate = PacedAt115200 ? 115200 : null };
        var device = new SimulatedDp5(options, new ExampleSpectrumSource(1).Generate, TimeProvider.System);
        var host = new SimulatedMcaHost(device, _link, TimeProvider.System);
        _ = Task.Run(() => host.RunAsync(_stop.Token));
        host.Ready.GetAwaiter().GetResult();
        var profile = new AcquisitionProfile
        {
            Name = "bench",
            Configuration = [new("MCAC", "8192")],
            Calibration = new EnergyCalibration(0, 30.0 / 8192),
            ReplyTimeout = TimeSpan.FromSeconds(1),
        };
        _session = new Dp5Session(_link, _ =>
        {
            var port = new SerialPort(_link);
            port.Open();
            return ValueTask.FromResult(port.BaseStream);
        }, profile, TimeProvider.System);
        _session.ConnectAsync(CancellationToken.None).GetAwaiter().GetResult();
        _session.ApplyProfileAsync(CancellationToken.None).GetAwaiter().GetResult();
        _session.ExpectAckAsync(Dp5Requests.EnableMca(), CancellationToken.None).GetAwaiter().GetResult();
    }

    [Benchmark(Description = "8192-ch spectrum+status read over pty")]
    public int Read8192() => _session!.ReadSpectrumAsync(clear: false, CancellationToken.None).GetAwaiter().GetResult().Counts.Length;

    [GlobalCleanup]
    public void Cleanup() => Dispose();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }

        _session?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _session = null;
        _stop?.Cancel();
        _stop?.Dispose();
        _stop = null;
    }
}
