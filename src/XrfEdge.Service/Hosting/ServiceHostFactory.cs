using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using XrfEdge.Service.Gpio;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Systemd;

namespace XrfEdge.Service.Hosting;

/// <summary>
/// The composition root of <c>xrfedge run</c>: a Generic Host with the pipeline workers, registered in the order that
/// makes start-up and shutdown right (start: startup → model watcher → publishing → analysis → acquisition → re-analysis → status → systemd;
/// the host stops them in reverse, so acquisition stops first and the downstream workers drain).
/// </summary>
internal static class ServiceHostFactory
{
    /// <summary>Builds the host for validated <paramref name="settings"/>.</summary>
    /// <param name="settings">The validated profile.</param>
    /// <param name="configuration">The layered configuration (for the Logging section and the config hash).</param>
    /// <param name="components">Creates the source, analyzer, publisher and I/O; tests pass fakes.</param>
    /// <param name="configure">Last-moment service overrides (tests: a fake TimeProvider).</param>
    public static IHost Build(ServiceSettings settings, IConfiguration configuration, IPipelineComponents components, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(settings.Health.StopTimeoutSeconds));
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
        if (SystemdEnvironment.IsJournalConsole(Environment.GetEnvironmentVariable))
        {
            // <N> priority prefixes that journald turns into levels; no colours, one line per message (sd-daemon(3)).
            builder.Logging.AddSystemdConsole(o => o.IncludeScopes = false);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
        }

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new ServiceIdentity(ConfigHash(configuration), sp.GetRequiredService<TimeProvider>().GetUtcNow()));
        services.AddSingleton<InstrumentStatus>();
        services.AddSingleton(_ => new MeasurementControl(settings.Acquisition.AutoStart)); // pending from the start: a stop during start-up cancels it
        services.AddSingleton(new PipelineChannels(settings.Model.MaxBatchSize));
        services.AddSingleton(sp => new LiveWorkGate(sp.GetRequiredService<PipelineChannels>())); // live first, re-analysis after
        services.AddSingleton(sp => new PipelineHealth(sp.GetRequiredService<TimeProvider>(), TimeSpan.FromSeconds(settings.Health.StallSeconds)));
        services.AddSingleton(_ => SystemdNotifier.FromEnvironment());
        services.AddSingleton(sp => components.CreateInstrumentIo(settings, sp));
        services.AddSingleton(sp => components.CreateSource(settings, sp));
        // A refused model (ModelContractException) leaves the slot empty and the service measuring without analysis;
        // the watcher loads the model when its files change (ModelSlot).
        services.AddSingleton(sp => new ModelSlot(
            () => components.CreateAnalyzer(settings, sp),
            () => ModelSlot.Fingerprint(settings.Model),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("XrfEdge.Service.Model")));
        services.AddSingleton<ISpectrumAnalyzer>(sp => sp.GetRequiredService<ModelSlot>());
        services.AddSingleton(sp => components.CreatePublisher(settings, sp));

        services.AddHostedService<PipelineStartup>();
        services.AddHostedService<ModelWatcher>();
        services.AddHostedService<PublishingWorker>();
        services.AddHostedService<AnalysisWorker>();
        services.AddHostedService<AcquisitionWorker>();
        services.AddSingleton<ReanalysisWorker>(); // also told by the publishing stage of late "no model" failures
        services.AddHostedService(sp => sp.GetRequiredService<ReanalysisWorker>());
        services.AddHostedService<StatusWorker>();
        services.AddHostedService<SystemdNotifyService>();
        configure?.Invoke(services);
        return builder.Build();
    }

    /// <summary>First 16 hex digits of SHA-256 over the sorted effective keys (passwords left out).</summary>
    public static string ConfigHash(IConfiguration configuration)
    {
        var text = new StringBuilder();
        foreach (var pair in configuration.AsEnumerable().Where(p => p.Value is not null && !p.Key.EndsWith("Password", StringComparison.OrdinalIgnoreCase)).OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
        {
            text.Append(pair.Key).Append('=').Append(pair.Value).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }
}
