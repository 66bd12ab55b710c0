using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using XrfEdge.Devices.Acquisition;
using XrfEdge.Devices.Amptek;
using XrfEdge.Devices.Formats;
using XrfEdge.Devices.Native;
using XrfEdge.Devices.Simulation;
using XrfEdge.Devices.Spi;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Cli;

/// <summary>
/// <c>xrfedge acquire --device PATH [--protocol dp5|spi] [--config PROFILE] [--preset-s T] [--count N]
/// [--out FILE.jsonl|.mca] [--json]</c>: runs N measurements on an MCA and writes them (raw counts,
/// calibration, live/real time, device status) as interchange .jsonl or Amptek .mca.
/// </summary>
internal static class AcquireCommand
{
    /// <summary>The verb's name on the command line.</summary>
    public const string Name = "acquire";

    /// <summary>Time allowed for STOP / disable after Ctrl-C: a few reply time-outs (200–500 ms each in the profiles), as the service allows.</summary>
    private static readonly TimeSpan StopBudget = TimeSpan.FromSeconds(2);

    public static Command Create()
    {
        var device = new Option<string?>("--device") { Description = "Serial device (/dev/ttyUSB0, a pty link) or spidev node (/dev/spidev0.0); 'simulated' with --protocol spi. Default: the profile's Device" };
        var protocol = new Option<string?>("--protocol") { Description = "dp5 (Amptek serial) or spi (XrfEdge SPI frames). Default: the profile's Protocol" };
        var config = new Option<string>("--config") { Description = "firmware-config profile name (firmware-config/NAME.json) or path", DefaultValueFactory = _ => "pi-dp5-uart" };
        var preset = new Option<double?>("--preset-s") { Description = "Preset accumulation time per measurement, seconds, up to 86400; at least 0.1 on the DP5, 0.001 on the SPI MCA (default: the profile's Acquisition:PresetSeconds)" };
        var count = new Option<int>("--count") { Description = "Number of measurements", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "Write spectra to FILE.jsonl (all) or FILE.mca (one file per measurement: FILE.mca, FILE-2.mca …); the directory must exist and is checked before measuring; each file is written to a temporary file and renamed into place" };
        var json = new Option<bool>("--json") { Description = "Print one JSON summary per measurement on stdout" };
        var command = new Command(Name, "Acquire spectra from an MCA (Amptek DP5 over serial, or SPI) and write them; Ctrl-C/SIGTERM stops the MCA and writes what was measured")
        {
            device, protocol, config, preset, count, output, json,
        };
        command.SetAction((parse, ct) => XrfEdgeCommandLine.CancelledOnTerminationAsync(token => RunAsync(
            parse.GetValue(device), parse.GetValue(protocol), parse.GetValue(config)!, parse.GetValue(preset), parse.GetValue(count),
            parse.GetValue(output), parse.GetValue(json), Console.Out, Console.Error, token), ct));
        return command;
    }

    internal static async Task<int> RunAsync(string? devicePath, string? protocolName, string configName, double? presetSeconds, int count, string? output, bool json, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        AcquisitionProfile profile;
        try
        {
            profile = AcquisitionProfile.Load(AcquisitionProfile.Resolve(configName));
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or IOException)
        {
            await stderr.WriteLineAsync($"acquire: {ex.Message}").ConfigureAwait(false);
            return 2;
        }

        var protocol = protocolName ?? profile.Protocol;
        var path = devicePath ?? profile.Device;
        var problem = protocol is not ("dp5" or "spi") ? $"--protocol must be dp5 or spi, got '{protocol}'"
            : path is null ? $"no --device given and profile {profile.Name} names none"
            : count < 1 ? "--count must be at least 1"
            // Written so that NaN fails too (every comparison with NaN is false). Below the MCA's preset resolution
            // its preset would mean "none" (SPI START 0 ms, DP5 PRET=0.0): the MCA would count forever.
            : presetSeconds is { } p && !(p >= AcquisitionProfile.MinimumPreset(protocol).TotalSeconds && p <= 86400)
                ? $"--preset-s must be at least {AcquisitionProfile.MinimumPreset(protocol).TotalSeconds.ToString(CultureInfo.InvariantCulture)} (the {protocol} MCA's preset resolution) and at most 86400, got {p.ToString(CultureInfo.InvariantCulture)}"
            : output is not null && !output.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) && !output.EndsWith(".mca", StringComparison.OrdinalIgnoreCase) ? $"--out must end in .jsonl or .mca, got '{output}'"
            : output is not null ? CheckOutput(output)
            : null;
        if (problem is not null)
        {
            await stderr.WriteLineAsync($"acquire: {problem}").ConfigureAwait(false);
            return 2;
        }

        var presetTime = presetSeconds is { } s ? TimeSpan.FromSeconds(s) : profile.PresetTime;
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        var logger = loggerFactory.CreateLogger("XrfEdge.Acquire");
        var spectra = new List<RawSpectrum>();
        try
        {
            if (protocol == "dp5")
            {
                await using var session = new Dp5Session(path!, _ =>
                {
                    var port = new SerialPort(path!, profile.BaudRate);
                    port.Open();
                    return ValueTask.FromResult(port.BaseStream);
                }, profile, TimeProvider.System, logger);
                var status = await session.ConnectAsync(cancellationToken).ConfigureAwait(false);
                await stderr.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"acquire: {status.DeviceType} S/N {status.SerialNumber?.ToString(CultureInfo.InvariantCulture) ?? "none"}, firmware {status.FirmwareVersion}, FPGA {status.FpgaVersion} on {path}")).ConfigureAwait(false);
                await session.ApplyProfileAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    for (var i = 0; i < count; i++)
                    {
                        var spectrum = await session.MeasureAsync(presetTime, cancellationToken).ConfigureAwait(false);
                        spectra.Add(spectrum);
                        await ReportAsync(spectrum, json, stdout).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Ctrl-C/SIGTERM: the DP5 would keep counting (guide: "Disable MCA/MCS"); ask it to stop, briefly.
                    using var budget = new CancellationTokenSource(StopBudget);
                    try
                    {
                        await session.ExpectAckAsync(Dp5Requests.DisableMca(), budget.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or IOException or TimeoutException)
                    {
                        // Stopping anyway; the next measurement starts with a clear and an enable.
                    }

                    throw;
                }
            }
            else
            {
                ISpiIoctl ioctl = path == "simulated"
                    ? new SimulatedSpiMca(profile.ChannelCount, 4, McaSimCommand.CreateSource("example", 1), TimeProvider.System)
                    : new SpidevIoctl(path!);
                using var spi = new SpiDevice(ioctl, profile.SpiMode, profile.SpiMaxSpeedHz);
                var client = new SpiMcaClient(path!, spi, profile, TimeProvider.System, dataReady: null, logger);
                try
                {
                    for (var i = 0; i < count; i++)
                    {
                        var spectrum = await client.MeasureAsync(presetTime, cancellationToken).ConfigureAwait(false);
                        spectra.Add(spectrum);
                        await ReportAsync(spectrum, json, stdout).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Ctrl-C/SIGTERM: without STOP the MCA counts on to its preset (docs/spi-mca-protocol.md §3); ask briefly.
                    using var budget = new CancellationTokenSource(StopBudget);
                    try
                    {
                        await client.CommandAsync(new SpiCommand(SpiOpcode.Stop), 0, budget.Token).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or IOException or TimeoutException)
                    {
                        // Stopping anyway; the next measurement starts with CLEAR + START.
                    }

                    throw;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await stderr.WriteLineAsync($"acquire: cancelled after {spectra.Count} measurement(s)").ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or TimeoutException or ArgumentException)
        {
            await stderr.WriteLineAsync($"acquire: {ex.Message}").ConfigureAwait(false);
            await WriteAsync(spectra, output, profile, stderr).ConfigureAwait(false);
            return 1;
        }

        var written = await WriteAsync(spectra, output, profile, stderr).ConfigureAwait(false);
        return written && spectra.Count == count ? 0 : 1;
    }

    /// <summary>
    /// Checked before anything is measured, so that a wrong --out does not cost a measurement: the directory exists, the
    /// path is not a directory, and a file can be created there. Returns the problem, or null.
    /// </summary>
    private static string? CheckOutput(string output)
    {
        var full = Path.GetFullPath(output);
        if (Directory.Exists(full))
        {
            return $"--out {output} is a directory; give a file name ending in .jsonl or .mca";
        }

        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
        {
            return $"--out {output}: directory {directory} does not exist";
        }

        try
        {
            using (File.Create(AtomicFile.TemporaryPath(full), 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"--out {output}: cannot create a file in {directory}: {ex.Message}";
        }

        return null;
    }

    /// <summary>Writes what was measured; false (with the path and the error on stderr) when the file could not be written.</summary>
    private static async Task<bool> WriteAsync(List<RawSpectrum> spectra, string? output, AcquisitionProfile profile, TextWriter stderr)
    {
        string? file = output;
        try
        {
            Write(spectra, output, profile, f => file = f);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await stderr.WriteLineAsync($"acquire: could not write {file}: {ex.Message}").ConfigureAwait(false);
            return false;
        }
    }

    private static void Write(List<RawSpectrum> spectra, string? output, AcquisitionProfile profile, Action<string> writing)
    {
        if (output is null || spectra.Count == 0)
        {
            return;
        }

        // Whatever was measured is written, even after a failure part-way: a stored result is never lost.
        if (output.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            writing(output);
            AtomicFile.Write(output, temporary => SpectrumJsonl.WriteFile(temporary, spectra.Select(s => new LabelledSpectrum(s))));
            return;
        }

        for (var i = 0; i < spectra.Count; i++)
        {
            var file = i == 0 ? output : string.Create(CultureInfo.InvariantCulture, $"{output[..^4]}-{i + 1}.mca");
            writing(file);
            var header = new AmptekMcaHeader
            {
                Tag = "live_data",
                Description = $"xrfedge acquire, profile {profile.Name}",
                StartTime = DateTimeOffset.TryParse(spectra[i].Metadata.GetValueOrDefault("acquired_utc"), CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t : null,
                SerialNumber = spectra[i].Metadata.GetValueOrDefault("serial_number"),
                Configuration = profile.Configuration,
                Status = [.. spectra[i].Metadata],
            };
            AtomicFile.Write(file, temporary => AmptekMcaWriter.WriteFile(temporary, spectra[i], header));
        }
    }

    private static async Task ReportAsync(RawSpectrum spectrum, bool json, TextWriter stdout)
    {
        if (json)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("id", spectrum.Id);
                writer.WriteNumber("channels", spectrum.Counts.Length);
                writer.WriteNumber("total_counts", spectrum.TotalCounts);
                writer.WriteNumber("live_time_s", spectrum.LiveTime?.TotalSeconds ?? 0);
                writer.WriteNumber("real_time_s", spectrum.RealTime?.TotalSeconds ?? 0);
                writer.WriteStartObject("calibration");
                writer.WriteNumber("offset_kev", spectrum.Calibration.OffsetKeV);
                writer.WriteNumber("gain_kev_per_channel", spectrum.Calibration.GainKeVPerChannel);
                writer.WriteNumber("quadratic_kev_per_channel2", spectrum.Calibration.QuadraticKeVPerChannel2);
                writer.WriteEndObject();
                writer.WriteStartObject("status");
                foreach (var (key, value) in spectrum.Metadata)
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            await stdout.WriteLineAsync(System.Text.Encoding.UTF8.GetString(buffer.ToArray())).ConfigureAwait(false);
            return;
        }

        await stdout.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"{spectrum.Id}: {spectrum.Counts.Length} channels, {spectrum.TotalCounts} counts, live {spectrum.LiveTime?.TotalSeconds:0.000} s, real {spectrum.RealTime?.TotalSeconds:0.000} s, dead time {spectrum.Metadata.GetValueOrDefault("dead_time_fraction", "n/a")}")).ConfigureAwait(false);
    }
}
