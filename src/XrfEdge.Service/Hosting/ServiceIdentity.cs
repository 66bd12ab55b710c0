using System.Reflection;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Service.Hosting;

/// <summary>Who this run is: boot id, version, config hash and (once loaded) the model.</summary>
internal sealed class ServiceIdentity(string configHash, DateTimeOffset started)
{
    /// <summary>A fresh id per process start, so dashboards can tell restarts apart.</summary>
    public string BootId { get; } = Guid.NewGuid().ToString("N");

    public string AppVersion { get; } = typeof(ServiceIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>SHA-256 (first 16 hex digits) of the effective configuration, so a fleet manager sees which profile runs.</summary>
    public string ConfigHash { get; } = configHash;

    public DateTimeOffset Started { get; } = started;

    public ModelIdentity? Model { get; set; }
}
