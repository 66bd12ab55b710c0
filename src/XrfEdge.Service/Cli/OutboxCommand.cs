using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using XrfEdge.Messaging.Outbox;

namespace XrfEdge.Service.Cli;

/// <summary>
/// <c>xrfedge outbox --db PATH [--json]</c>: read-only figures of the MQTT outbox (safe while the service runs). Its
/// subcommand <c>export</c> (<see cref="OutboxExportCommand"/>) writes the stored spectra as .jsonl; System.CommandLine
/// runs this command's own action when no subcommand is named, so <c>outbox --db PATH</c> is unchanged. Exit codes: 0
/// intact; 2 missing or not an outbox; 3 the integrity check fails; 4 the file could not be opened or read (a directory,
/// no permission, another process's lock, an I/O error: <see cref="OutboxUnavailableException"/>), as for export.
/// </summary>
internal static class OutboxCommand
{
    public static Command Create()
    {
        var db = new Option<FileInfo>("--db") { Description = "Outbox SQLite file (e.g. /var/lib/xrfedge/outbox.db)", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text" };
        var command = new Command("outbox", "Show the MQTT outbox: queued rows, bytes, oldest age, evictions, dead letters, last seq, rows awaiting re-analysis and those pruned before it, integrity; `export` writes its stored spectra as .jsonl. " +
            "Exit 0 intact; 2 missing or not an outbox; 3 integrity check failed; 4 could not be opened or read (a directory, no permission, another process's lock, an I/O error)")
        {
            db, json, OutboxExportCommand.Create(),
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(db)!.FullName;
            try
            {
                return Run(path, parse.GetValue(json), parse.InvocationConfiguration.Output);
            }
            catch (OutboxUnavailableException ex)
            {
                parse.InvocationConfiguration.Error.WriteLine($"xrfedge outbox: {ex.Message}");
                return OutboxExportCommand.ExitUnavailable;
            }
            catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or Microsoft.Data.Sqlite.SqliteException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"xrfedge outbox: cannot read '{path}': {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    /// <summary>Prints the figures; returns 0 when the file is intact, 3 when its integrity check fails.</summary>
    internal static int Run(string path, bool asJson, TextWriter output)
    {
        var (stats, integrity) = SqliteOutbox.Inspect(path);
        if (stats is null)
        {
            if (asJson)
            {
                output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["integrity"] = integrity }));
            }
            else
            {
                output.WriteLine("figures        unreadable (damaged file)");
                output.WriteLine($"integrity      {integrity}");
            }

            return 3;
        }

        Write(stats, integrity, asJson, output);
        return integrity == "ok" ? 0 : 3;
    }

    internal static void Write(OutboxStatistics stats, string integrity, bool asJson, TextWriter output)
    {
        if (asJson)
        {
            output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["depth"] = stats.Depth,
                ["bytes"] = stats.Bytes,
                ["oldest_age_s"] = Math.Round(stats.OldestAge.TotalSeconds, 1),
                ["oldest_run_age_s"] = stats.OldestRunAge is { } runAge ? Math.Round(runAge.TotalSeconds, 1) : null,
                ["evicted_total"] = stats.EvictedTotal,
                ["dead_lettered"] = stats.DeadLettered,
                ["last_seq"] = stats.LastSeq,
                ["awaiting_reanalysis"] = stats.AwaitingReanalysisCounted ? stats.AwaitingReanalysis : null,
                ["pruned_unanalysed_total"] = stats.PrunedUnanalysedTotal,
                ["integrity"] = integrity,
            }));
            return;
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"queued rows    {stats.Depth}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"queued bytes   {stats.Bytes}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"oldest age     {stats.OldestAge.TotalSeconds:F0} s"));
        output.WriteLine(stats.OldestRunAge is { } run
            ? string.Create(CultureInfo.InvariantCulture, $"oldest run age {run.TotalSeconds:F0} s (time the service has had the outbox open since)")
            : "oldest run age unknown (queued by a release before 2026-11-25: aged by the wall clock alone)");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"evicted total  {stats.EvictedTotal}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dead letters   {stats.DeadLettered}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"last seq       {stats.LastSeq}"));
        output.WriteLine(stats.AwaitingReanalysisCounted
            ? string.Create(CultureInfo.InvariantCulture, $"awaiting reanalysis  {stats.AwaitingReanalysis}")
            : "awaiting reanalysis  unknown (no release since 2026-11-24 has opened the file)");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pruned unanalysed    {stats.PrunedUnanalysedTotal}"));
        output.WriteLine($"integrity      {integrity}");
    }
}
