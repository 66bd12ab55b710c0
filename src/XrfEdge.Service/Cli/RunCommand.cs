using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using XrfEdge.Service.Hosting;
using XrfEdge.Service.Options;

namespace XrfEdge.Service.Cli;

/// <summary><c>xrfedge run --config FILE [--set Section:Key=Value]…</c>: the worker service.</summary>
internal static class RunCommand
{
    /// <summary>The verb's name.</summary>
    public const string Name = "run";

    /// <summary>
    /// Exit code for an invalid profile or command line (EX_CONFIG from sysexits.h; a usage error since 2026-11-24). The unit's <c>RestartPreventExitStatus=78</c> keeps
    /// <c>Restart=on-failure</c> from retrying it (a restart cannot fix the file); the journal shows why.
    /// </summary>
    public const int InvalidConfiguration = 78;

    /// <summary>Exit code when start-up failed (device, model or outbox could not be opened) or a pipeline stage crashed later.</summary>
    public const int StartupFailed = 1;

    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "Device profile (firmware-config/*.json)", Required = true };
        var set = new Option<string[]>("--set") { Description = "Override one key, Section:Key=Value (repeatable); environment variables XRFEDGE_Section__Key also override", AllowMultipleArgumentsPerToken = false };
        var command = new Command(Name, "Run the instrument service: acquire → identify → outbox → MQTT, until SIGTERM/Ctrl-C") { config, set };
        // SIGTERM/Ctrl-C reach the host through its console lifetime, which runs the ordered shutdown; the parser's
        // token is not forwarded so that a second, racing cancellation path does not exist.
        command.SetAction(async (parse, cancellationToken) =>
            await RunAsync(parse.GetValue(config)!.FullName, parse.GetValue(set) ?? [], new ProductionComponents(), Console.Error, CancellationToken.None).ConfigureAwait(false));
        return command;
    }

    /// <summary>Validates the profile (nothing touched before it passes), builds the host and runs it until stopped.</summary>
    /// <param name="profilePath">The profile file.</param>
    /// <param name="sets">--set overrides.</param>
    /// <param name="components">The pipeline's edges (the product's, or simulated devices below the ioctl seams in tests).</param>
    /// <param name="error">Where the one-line start-up failure goes.</param>
    /// <param name="cancellationToken">Stops the host like SIGTERM does (in-process tests); the CLI relies on SIGTERM/Ctrl-C.</param>
    internal static async Task<int> RunAsync(string profilePath, IReadOnlyList<string> sets, IPipelineComponents components, TextWriter error, CancellationToken cancellationToken = default)
    {
        ServiceSettings settings;
        Microsoft.Extensions.Configuration.IConfigurationRoot configuration;
        try
        {
            settings = ProfileLoader.Load(profilePath, sets);
            configuration = ProfileLoader.Build(profilePath, sets);
        }
        catch (ProfileException ex)
        {
            await error.WriteLineAsync($"xrfedge run: {ex.Message}").ConfigureAwait(false);
            return InvalidConfiguration;
        }

        IHostApplicationLifetime? lifetime = null;
        try
        {
            using var host = ServiceHostFactory.Build(settings, configuration, components);
            lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            var health = host.Services.GetRequiredService<PipelineHealth>();
            await host.RunAsync(cancellationToken).ConfigureAwait(false);
            return health.AnyWorkerCrashed ? StartupFailed : 0;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever stopped the start (device, model contract, outbox, native library), say it in one line and exit
            // non-zero so that systemd's Restart=on-failure retries and the journal shows why. A stage that crashed after
            // the start reaches here too; "start-up failed" would send the reader to the wrong place.
            var started = lifetime?.ApplicationStarted.IsCancellationRequested == true;
            await error.WriteLineAsync(started ? $"xrfedge run: stopped after a failure: {ex.Message}" : $"xrfedge run: start-up failed: {ex.Message}").ConfigureAwait(false);
            return StartupFailed;
        }
    }
}
