using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Interchange;

namespace XrfEdge.Service.Cli;

/// <summary>
/// <c>xrfedge outbox export --db PATH -o FILE.jsonl [--incomplete] [--since ISO-8601]</c>: writes the spectra stored in the
/// outbox's results table (the <c>get_spectrum</c> archive) as interchange <c>.jsonl</c>, oldest first, for
/// <c>identify</c>/<c>eval</c> and audits. Read-only and safe while the service runs (<see cref="SqliteOutbox.ReadStoredResults"/>).
/// Exit codes: 0 every stored spectrum written; 1 bad arguments or the output could not be written (nothing written);
/// 2 the input is unreadable (missing, not an outbox, a newer schema; nothing written); 3 damage: rows skipped or
/// reading stopped by a damaged page (the rest written); 4 the input could not be opened or read, for a reason that
/// says nothing about its contents (a directory, no permission, locked by another process, an I/O error; nothing
/// written). 2 and 3 mean what they mean for <c>xrfedge outbox</c>. Until 2026-11-24 the causes of 4 exited 2 as
/// "not an XrfEdge outbox database", which invited moving a healthy outbox aside.
/// </summary>
internal static class OutboxExportCommand
{
    /// <summary>Bad arguments, or the output file could not be written.</summary>
    public const int ExitUsage = 1;

    /// <summary>The input is unreadable (as for <c>xrfedge outbox</c>).</summary>
    public const int ExitUnreadable = 2;

    /// <summary>Damage: rows skipped or reading stopped (as for <c>xrfedge outbox</c>).</summary>
    public const int ExitDamaged = 3;

    /// <summary>
    /// The input could not be opened or read (<see cref="OutboxUnavailableException"/>: a directory, no permission,
    /// another process's lock, an I/O error): nothing is known to be wrong with it, and trying again once the cause is
    /// gone may succeed.
    /// </summary>
    public const int ExitUnavailable = 4;

    private const string Prefix = "xrfedge outbox export";
    private const string EventSchema = SqliteOutbox.MeasurementEventSchema;

    /// <summary>
    /// The metadata key of a record whose stored calibration the calibration limits refuse (its value: why); the record
    /// holds the raw channels and the calibration as stored. Since 2026-11-24.
    /// </summary>
    internal const string CalibrationProblemKey = "calibration_problem";

    /// <summary>The stored result of a failed scan point analysed later (docs/mqtt.md "Events", scan points).</summary>
    private const string ScanPointsSchema = "xrf.scan-points/1";

    // SQLITE_CORRUPT and SQLITE_NOTADB, https://www.sqlite.org/rescode.html.
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    public static Command Create()
    {
        var db = new Option<FileInfo>("--db") { Description = "Outbox SQLite file (e.g. /var/lib/xrfedge/outbox.db); opened read-only", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The .jsonl file to write (replaced only once complete, through a temporary file beside it)", Required = true };
        var incomplete = new Option<bool>("--incomplete") { Description = "Only measurements that did not complete (stored with an event, no identification): the ones to analyse again" };
        var since = new Option<string?>("--since") { Description = "Only results stored at or after this time, ISO-8601 (e.g. 2026-11-23T08:00:00Z; no offset = UTC)" };
        var command = new Command(
            "export",
            "Write the spectra stored in the outbox (completed and failed measurements) as .jsonl, oldest first. Exit 0 all written; " +
            "1 bad arguments or the output could not be written; 2 the outbox is missing, not an outbox or of a newer schema; " +
            "3 damaged rows skipped (the others written); 4 the outbox could not be opened or read (no permission, locked by " +
            "another process, I/O error): nothing is known to be wrong with it, keep it and try again")
        {
            db, output, incomplete, since,
        };
        // SIGINT/SIGTERM cancel the export between rows, which removes its temporary file; without a token the runtime
        // killed the process at once and left the hidden .tmp beside the output (found 2026-11-24).
        command.SetAction((parse, ct) => XrfEdgeCommandLine.CancelledOnTerminationAsync(token => Task.FromResult(Action(parse, token)), ct));
        return command;

        int Action(ParseResult parse, CancellationToken cancellationToken)
        {
            var error = parse.InvocationConfiguration.Error;
            DateTimeOffset? from = null;
            if (parse.GetValue(since) is { } text)
            {
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
                {
                    error.WriteLine($"{Prefix}: --since '{text}' is not an ISO-8601 time (e.g. 2026-11-23T08:00:00Z)");
                    return ExitUsage;
                }

                from = parsed;
            }

            return Run(parse.GetValue(db)!.FullName, parse.GetValue(output)!, parse.GetValue(incomplete), from, error, cancellationToken);
        }
    }

    /// <summary>Exit code of an export stopped by SIGINT/SIGTERM (128 + SIGINT, what a shell reports for Ctrl-C).</summary>
    public const int ExitInterrupted = 130;

    /// <summary>Exports; prints one line per skipped row and a one-line summary to <paramref name="error"/>.</summary>
    internal static int Run(string databasePath, string outputPath, bool incompleteOnly, DateTimeOffset? since, TextWriter error, CancellationToken cancellationToken = default)
    {
        var database = Path.GetFullPath(databasePath);
        var output = Path.GetFullPath(outputPath);
        if (IsDatabaseFile(output, database))
        {
            error.WriteLine($"{Prefix}: -o '{output}' is the outbox database '{database}' or one of its files; give another file");
            return ExitUsage;
        }

        IEnumerable<(long RowId, string MeasurementId, long Seq, string MsgId, DateTimeOffset Created, byte[] Detection, byte[]? Spectrum)> rows;
        try
        {
            rows = SqliteOutbox.ReadStoredResults(database, since);
        }
        catch (SqliteException ex) when (IsDamage(ex))
        {
            error.WriteLine($"{Prefix}: cannot read '{database}': the file is damaged ({ex.Message}); nothing written");
            return ExitDamaged;
        }
        catch (OutboxUnavailableException ex)
        {
            error.WriteLine($"{Prefix}: {ex.Message} Nothing written.");
            return ExitUnavailable;
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or SqliteException or UnauthorizedAccessException)
        {
            error.WriteLine($"{Prefix}: cannot read '{database}': {ex.Message}");
            return ExitUnreadable;
        }

        var tally = new Tally();
        string? stoppedBy = null;
        string? unreadable = null;
        OutboxUnavailableException? unavailable = null;
        var temporary = AtomicFile.TemporaryPath(output);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                try
                {
                    foreach (var row in rows)
                    {
                        if (cancellationToken.IsCancellationRequested)
                        {
                            break;
                        }

                        if (ToExported(row, incompleteOnly, tally) is { } exported)
                        {
                            if (exported.Spectrum.Metadata.ContainsKey(CalibrationProblemKey))
                            {
                                SpectrumJsonl.WriteAsStored(stream, exported);
                                tally.CalibrationRefused++;
                            }
                            else
                            {
                                SpectrumJsonl.Write(stream, exported);
                            }

                            tally.Written++;
                        }
                        else if (tally.Problem is { } problem)
                        {
                            error.WriteLine($"{Prefix}: '{database}': skipped measurement '{row.MeasurementId}' (results row {row.RowId.ToString(CultureInfo.InvariantCulture)}): {problem}");
                            tally.Problem = null;
                        }
                    }
                }
                catch (SqliteException ex) when (IsDamage(ex))
                {
                    // The rows before the damaged page are the operator's data: keep them, and say where reading stopped.
                    stoppedBy = ex.Message;
                }
                catch (OutboxUnavailableException ex)
                {
                    // Not the output's fault (the IOException catch below): the rows read so far are no complete export.
                    unavailable = ex;
                }
                catch (SqliteException ex)
                {
                    unreadable = ex.Message;
                }

                stream.Flush(flushToDisk: true);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                AtomicFile.TryDelete(temporary);
                error.WriteLine($"{Prefix}: interrupted; '{output}' was not written (an earlier file there is as it was)");
                return ExitInterrupted;
            }

            if (unavailable is not null)
            {
                AtomicFile.TryDelete(temporary);
                error.WriteLine($"{Prefix}: {unavailable.Message} Nothing written.");
                return ExitUnavailable;
            }

            if (unreadable is not null)
            {
                AtomicFile.TryDelete(temporary);
                error.WriteLine($"{Prefix}: cannot read '{database}': {unreadable}; nothing written");
                return ExitUnreadable;
            }

            File.Move(temporary, output, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            AtomicFile.TryDelete(temporary);
            error.WriteLine($"{Prefix}: cannot write '{output}': {ex.Message}; nothing written");
            return ExitUsage;
        }

        if (stoppedBy is not null)
        {
            error.WriteLine($"{Prefix}: '{database}': reading stopped at a damaged page after the rows above ({stoppedBy}); later rows are not exported");
        }

        var leftOut = incompleteOnly ? string.Create(CultureInfo.InvariantCulture, $", {tally.Completed} completed ones left out by --incomplete") : string.Empty;
        var refused = tally.CalibrationRefused > 0
            ? string.Create(CultureInfo.InvariantCulture, $" ({tally.CalibrationRefused} with a calibration outside the limits, as stored, marked {CalibrationProblemKey})")
            : string.Empty;
        error.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{Prefix}: wrote {tally.Written} spectra{refused}, skipped {tally.Skipped} damaged rows, to '{output}' ({tally.WithoutSpectrum} stored results without a spectrum{leftOut})"));
        return tally.Skipped > 0 || stoppedBy is not null ? ExitDamaged : 0;
    }

    /// <summary>
    /// The <c>.jsonl</c> record of one stored result, or null when it has no spectrum, is filtered out, or is damaged
    /// (then <see cref="Tally.Problem"/> says why).
    /// </summary>
    private static LabelledSpectrum? ToExported(
        (long RowId, string MeasurementId, long Seq, string MsgId, DateTimeOffset Created, byte[] Detection, byte[]? Spectrum) row,
        bool incompleteOnly,
        Tally tally)
    {
        if (row.Spectrum is null)
        {
            tally.WithoutSpectrum++;
            return null;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var problem = ReadOutcome(row.Detection, row.Seq, metadata, out var isEvent);
        if (problem is null && incompleteOnly && !isEvent)
        {
            tally.Completed++;
            return null;
        }

        RawSpectrum? decoded = null;
        if (problem is null)
        {
            try
            {
                decoded = SpectrumPayload.Decode(row.Spectrum);
            }
            catch (InvalidDataException ex)
            {
                problem = "the stored spectrum is damaged: " + ex.Message;
            }
        }

        if (decoded is not null)
        {
            // Ours last: the row's own facts win over any same-named key the instrument put in the spectrum.
            var merged = new Dictionary<string, string>(decoded.Metadata, StringComparer.Ordinal);
            foreach (var (key, value) in metadata)
            {
                merged[key] = value;
            }

            merged["msg_id"] = row.MsgId;
            merged["stored_utc"] = row.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            var spectrum = decoded with { Id = row.MeasurementId, Metadata = merged };
            if (SpectrumJsonl.ValidateExceptCalibration(spectrum) is { } invalid)
            {
                problem = "the stored spectrum cannot be written as .jsonl: " + invalid;
            }
            else if (spectrum.Calibration.Validate(spectrum.Counts.Length) is { } calibration)
            {
                // Stored data is exported whatever today's calibration limits say (until 2026-11-24 it was skipped):
                // the raw channels and the calibration as stored, marked with why, which readers refuse by name.
                merged[CalibrationProblemKey] = calibration;
                return new LabelledSpectrum(spectrum with { Metadata = merged });
            }
            else
            {
                // The key is this export's finding, which the caller reads: one the spectrum carried (replayed from an
                // exported line whose calibration was corrected, the key left in) is a stale claim. Until 2026-11-24
                // (review) it was kept, and the spectrum counted as outside the limits.
                merged.Remove(CalibrationProblemKey); // spectrum.Metadata is merged
                return new LabelledSpectrum(spectrum);
            }
        }

        tally.Skipped++;
        tally.Problem = problem;
        return null;
    }

    /// <summary>
    /// Reads the outcome from the stored detection (completed) or <c>xrf.measurement-event/1</c> payload (not completed)
    /// into <paramref name="metadata"/>: <c>outcome</c>, <c>reason</c> (events), <c>seq</c> (detections),
    /// <c>acquired_start</c>, <c>acquired_end</c>, <c>device</c>, <c>scan_id</c> and <c>scan_index</c> (scan points) when
    /// present. Null when readable, else what is wrong.
    /// </summary>
    private static string? ReadOutcome(byte[] payload, long seq, Dictionary<string, string> metadata, out bool isEvent)
    {
        isEvent = false;
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return "the stored detection or event is not a JSON object";
            }

            isEvent = root.TryGetProperty("schema", out var schema) && schema.ValueKind == JsonValueKind.String && schema.GetString() == EventSchema;
            if (isEvent)
            {
                if (!root.TryGetProperty("outcome", out var outcome) || outcome.ValueKind != JsonValueKind.String)
                {
                    return "the stored event has no outcome";
                }

                metadata["outcome"] = outcome.GetString()!;
                if (root.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String)
                {
                    metadata["reason"] = reason.GetString()!;
                }
            }
            else if (schema.ValueKind == JsonValueKind.String && schema.GetString() == ScanPointsSchema)
            {
                // A failed scan point analysed later (its re-published chunk, one point): completed, and without a seq,
                // which scan points never take; the column holds the detection's before it (until 2026-11-24 written here).
                metadata["outcome"] = "completed";
                if (root.TryGetProperty("points", out var points) && points.ValueKind == JsonValueKind.Array && points.GetArrayLength() == 1
                    && points[0].TryGetProperty("i", out var index) && index.ValueKind == JsonValueKind.Number)
                {
                    metadata["scan_index"] = index.GetRawText();
                }
            }
            else
            {
                metadata["outcome"] = "completed";
                metadata["seq"] = seq.ToString(CultureInfo.InvariantCulture);
            }

            // A failed scan point's stored event (since 2026-11-24) says which point of which map it is.
            CopyString(root, "scan_id", "scan_id", metadata);
            if (root.TryGetProperty("scan_index", out var scanIndex) && scanIndex.ValueKind == JsonValueKind.Number)
            {
                metadata["scan_index"] = scanIndex.GetRawText();
            }

            if (root.TryGetProperty("acquired", out var acquired) && acquired.ValueKind == JsonValueKind.Object)
            {
                CopyString(acquired, "start", "acquired_start", metadata);
                CopyString(acquired, "end", "acquired_end", metadata);
            }

            CopyString(root, "device", "device", metadata);
            return null;
        }
        catch (JsonException ex)
        {
            return $"the stored detection or event is not valid JSON ({ex.Message})";
        }
    }

    private static void CopyString(JsonElement parent, string name, string key, Dictionary<string, string> metadata)
    {
        if (parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
        {
            metadata[key] = value.GetString()!;
        }
    }

    /// <summary>
    /// True when <paramref name="output"/> is the database or one of its companion files (WAL, shared memory, the
    /// writer's lock), also through symbolic links: the final rename would replace the service's data.
    /// </summary>
    private static bool IsDatabaseFile(string output, string database)
    {
        var target = Resolve(output);
        var real = Resolve(database);
        return new[] { string.Empty, "-wal", "-shm", "-journal", ".lock" }.Any(suffix =>
            string.Equals(target, real + suffix, StringComparison.Ordinal) || string.Equals(output, database + suffix, StringComparison.Ordinal));
    }

    /// <summary>The path with every symbolic link along it followed (the path itself when a part cannot be read).</summary>
    private static string Resolve(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath)!;
        var current = root;
        foreach (var part in fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            try
            {
                if (new FileInfo(current).ResolveLinkTarget(returnFinalTarget: true) is { } linked)
                {
                    current = Path.GetFullPath(linked.FullName);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return fullPath;
            }
        }

        return current;
    }

    private static bool IsDamage(SqliteException exception) => (exception.SqliteErrorCode & 0xFF) is SqliteCorrupt or SqliteNotADatabase;

    /// <summary>What one export met.</summary>
    private sealed class Tally
    {
        public int Written { get; set; }

        public int Skipped { get; set; }

        public int WithoutSpectrum { get; set; }

        public int Completed { get; set; }

        /// <summary>Written with a calibration the limits refuse, as stored and marked (<see cref="CalibrationProblemKey"/>).</summary>
        public int CalibrationRefused { get; set; }

        /// <summary>Why the last row was skipped, until it is reported.</summary>
        public string? Problem { get; set; }
    }
}
