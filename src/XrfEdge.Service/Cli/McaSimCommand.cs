using System.CommandLine;
using Microsoft.Extensions.Logging;
using XrfEdge.Devices.Simulation;
using XrfEdge.Spectra;
using XrfEdge.Synthesis;

namespace XrfEdge.Service.Cli;

/// <summary>
/// <c>xrfedge mca-sim --link PATH [--profile NAME] [--seed S] [--fault MODE] [--fault-every N] [--pace-baud B]</c>:
/// a simulated Amptek DP5 on a pty whose slave is symlinked at PATH, answering until Ctrl-C. Spectra come
/// from the synthetic generator (profile handheld-sdd by default) or, with <c>--profile example</c>, from
/// the fixed example spectrum.
/// </summary>
internal static class McaSimCommand
{
    /// <summary>The verb's name on the command line.</summary>
    public const string Name = "mca-sim";

    /// <summary>Fault names accepted by --fault.</summary>
    internal static readonly IReadOnlyDictionary<string, SimulatedFault> Faults = new Dictionary<string, SimulatedFault>(StringComparer.Ordinal)
    {
        ["none"] = SimulatedFault.None,
        ["garbage"] = SimulatedFault.Garbage,
        ["dropped-bytes"] = SimulatedFault.DroppedBytes,
        ["bad-checksum"] = SimulatedFault.BadChecksum,
        ["slow-replies"] = SimulatedFault.SlowReplies,
        ["disconnect"] = SimulatedFault.Disconnect,
        ["error-acks"] = SimulatedFault.ErrorAcks,
    };

    public static Command Create()
    {
        var link = new Option<string>("--link") { Description = "Where to symlink the pty slave (e.g. /tmp/ttyDP5; not a directory); clients open this path; removed on Ctrl-C/SIGTERM", Required = true };
        var profile = new Option<string>("--profile") { Description = $"Spectrum source: a generator profile ({string.Join(", ", GeneratorProfiles.Names)}) or 'example' (fixed example spectrum)", DefaultValueFactory = _ => "handheld-sdd" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the spectrum source and of fault injection", DefaultValueFactory = _ => 1 };
        var fault = new Option<string>("--fault") { Description = $"Fault to inject: {string.Join(", ", Faults.Keys)}", DefaultValueFactory = _ => "none" };
        var faultEvery = new Option<int>("--fault-every") { Description = "Inject the fault into every N-th reply", DefaultValueFactory = _ => 3 };
        var paceBaud = new Option<int?>("--pace-baud") { Description = "Send replies no faster than this UART rate (e.g. 115200), as a real DP5 would" };
        var command = new Command(Name, "Run a simulated Amptek DP5 on a pseudo-terminal (for demos and tests without hardware)")
        {
            link, profile, seed, fault, faultEvery, paceBaud,
        };
        command.SetAction((parse, ct) => XrfEdgeCommandLine.CancelledOnTerminationAsync(token => RunAsync(
            parse.GetValue(link)!, parse.GetValue(profile)!, parse.GetValue(seed), parse.GetValue(fault)!, parse.GetValue(faultEvery), parse.GetValue(paceBaud), Console.Out, Console.Error, token), ct));
        return command;
    }

    internal static async Task<int> RunAsync(string link, string profileName, ulong seed, string faultName, int faultEvery, int? paceBaud, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (!Faults.TryGetValue(faultName, out var fault))
        {
            await stderr.WriteLineAsync($"mca-sim: unknown --fault '{faultName}'; use one of {string.Join(", ", Faults.Keys)}").ConfigureAwait(false);
            return 2;
        }

        if (faultEvery < 1 || paceBaud is < 1200)
        {
            await stderr.WriteLineAsync("mca-sim: --fault-every must be at least 1 and --pace-baud at least 1200").ConfigureAwait(false);
            return 2;
        }

        if (Directory.Exists(link))
        {
            await stderr.WriteLineAsync($"mca-sim: --link {link} is a directory; give the path of the link to create, e.g. {Path.Combine(link, "ttyDP5")}").ConfigureAwait(false);
            return 2;
        }

        Func<SimulatedSpectrumRequest, RawSpectrum> source;
        try
        {
            source = CreateSource(profileName, seed);
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or InvalidDataException)
        {
            await stderr.WriteLineAsync($"mca-sim: {ex.Message}").ConfigureAwait(false);
            return 2;
        }

        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        var device = new SimulatedDp5(
            new SimulatedDp5Options { Seed = seed, Fault = fault, FaultEvery = faultEvery, PaceBaudRate = paceBaud },
            source,
            TimeProvider.System,
            loggerFactory.CreateLogger("XrfEdge.McaSim"));
        var host = new SimulatedMcaHost(device, link, TimeProvider.System);
        var running = host.RunAsync(cancellationToken);
        try
        {
            await Task.WhenAny(host.Ready, running).ConfigureAwait(false);
            if (running.IsCompleted)
            {
                await running.ConfigureAwait(false);
                return 0;
            }

            await stdout.WriteLineAsync($"mca-sim: simulated DP5 on {Path.GetFullPath(link)} -> {host.CurrentSlavePath} (spectra: {profileName}, seed {seed}, fault {faultName}); Ctrl-C to stop").ConfigureAwait(false);
            await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
            await running.ConfigureAwait(false);
            await stdout.WriteLineAsync($"mca-sim: stopped after {device.RequestCount} requests").ConfigureAwait(false);
            return 0;
        }
        catch (IOException ex)
        {
            await stderr.WriteLineAsync($"mca-sim: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>The spectrum source: the synthetic generator, scaled to the requested duration, or the fixed example.</summary>
    internal static Func<SimulatedSpectrumRequest, RawSpectrum> CreateSource(string profileName, ulong seed)
    {
        if (profileName == "example")
        {
            return new ExampleSpectrumSource(seed).Generate;
        }

        return CreateSource(GeneratorProfiles.Load(profileName), seed);
    }

    /// <summary>The synthetic generator with <paramref name="profile"/>, scaled to the requested duration.</summary>
    internal static Func<SimulatedSpectrumRequest, RawSpectrum> CreateSource(GeneratorProfile profile, ulong seed)
    {
        var generator = new SpectrumGenerator(profile, seed);
        return request =>
        {
            var spectrum = generator.Generate(request.MeasurementIndex).Spectrum;

            // The generator draws its own live time; rescale the expected counts to the simulated preset.
            // (Rescaling a Poisson draw is not a Poisson draw; fine for a link simulator.)
            var scale = spectrum.LiveTime is { TotalSeconds: > 0 } live ? request.Duration / live : 1.0;
            return spectrum with
            {
                Counts = Array.ConvertAll(spectrum.Counts, c => (long)Math.Round(c * scale)),
                LiveTime = request.Duration,
                RealTime = request.Duration,
            };
        };
    }
}
