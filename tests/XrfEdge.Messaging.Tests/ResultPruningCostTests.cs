using Microsoft.Data.Sqlite;
using SQLitePCL;
using XrfEdge.Messaging.Outbox;

namespace XrfEdge.Messaging.Tests;

/// <summary>
/// The count bound on the stored results (<see cref="OutboxOptions.ResultRetention"/>) runs inside every measurement's
/// write transaction, so its cost must follow the rows it drops, not the rows it keeps. Found 2026-11-23: the rowid form
/// of the prune stepped through all kept rows (10,000 by default, their spectra inline on the table's leaf pages, about
/// 1,250 pages) for every insert; on a 10,000-row table with 8 KB spectra that was 1.7 ms per insert against 0.13 ms.
/// </summary>
public sealed class ResultPruningCostTests : IDisposable
{
    // Enough rows that a walk over the kept ones (several VM steps each) stands far above the bound below.
    private const int StoredRows = 3_000;

    // Generous for the fixed work of the statement (count, one victim, RETURNING), far below one step per kept row.
    private const int MaximumVmSteps = 1_000;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "xrfedge-prunecost-" + Guid.NewGuid().ToString("N")[..12]);

    public ResultPruningCostTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A file with the real schema and its indexes (made by <see cref="SqliteOutbox.Open"/>), opened bare for filling.</summary>
    private static SqliteConnection SchemaOnly(OutboxOptions options)
    {
        SqliteOutbox.Open(options).Dispose();
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = options.DatabasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    [Fact]
    public void PruneResultsByCount_OneRowOverRetention_StepsIndependentOfKeptRows()
    {
        using var connection = SchemaOnly(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db") });
        using (var fill = connection.CreateCommand())
        {
            fill.CommandText = """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
                INSERT INTO results(measurement_id, seq, msg_id, created_utc, detection, spectrum)
                SELECT 'M-' || i, i, 'msg-' || i, i, zeroblob(300), zeroblob(2000) FROM n
                """;
            fill.Parameters.AddWithValue("$rows", StoredRows);
            fill.ExecuteNonQuery();
        }

        Assert.Equal(raw.SQLITE_OK, raw.sqlite3_prepare_v2(connection.Handle, SqliteOutbox.PruneResultsByCountSql, out sqlite3_stmt statement));
        try
        {
            raw.sqlite3_bind_int64(statement, raw.sqlite3_bind_parameter_index(statement, "$keep"), StoredRows - 1);
            var deleted = 0;
            int rc;
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
                Assert.Equal(2300, raw.sqlite3_column_int64(statement, 0)); // zeroblob(300) + zeroblob(2000) above
                deleted++;
            }

            Assert.Equal(raw.SQLITE_DONE, rc);
            Assert.Equal(1, deleted);
            int steps = raw.sqlite3_stmt_status(statement, raw.SQLITE_STMTSTATUS_VM_STEP, 0);
            Assert.True(steps < MaximumVmSteps, $"pruning one row of {StoredRows} took {steps} VM steps: it walks the kept rows");
        }
        finally
        {
            raw.sqlite3_finalize(statement);
        }

        using var left = connection.CreateCommand();
        left.CommandText = "SELECT count(*), min(rowid) FROM results";
        using var reader = left.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(StoredRows - 1, reader.GetInt64(0));
        Assert.Equal(2, reader.GetInt64(1)); // the oldest (rowid 1) went
    }

    [Fact]
    public void AwaitingReanalysisCount_ManyStoredResults_ReadFromThePartialIndexNotTheTable()
    {
        // Until 2026-11-24 (review) health's awaiting_reanalysis read every stored result, spectra inline, under the
        // outbox's lock: 54-144 ms for 10,000 rows on the dev VM (docs/service.md). The prefix is the service's
        // "no model" reason (ReanalysisWorker.ReasonPrefix).
        IReadOnlyList<string> prefixes = ["analysis failed: no model loaded: "];
        using var connection = SchemaOnly(new OutboxOptions { DatabasePath = Path.Combine(_directory, "outbox.db"), ReanalysisReasonPrefixes = prefixes });
        using (var fill = connection.CreateCommand())
        {
            // StoredRows detections (not awaiting anything) and 2 events whose reason starts with the prefix.
            fill.CommandText = """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
                INSERT INTO results(measurement_id, seq, msg_id, created_utc, detection, spectrum)
                SELECT 'M-' || i, i, 'msg-' || i, i, CAST('{"seq":' || i || '}' AS BLOB), zeroblob(2000) FROM n;
                INSERT INTO results(measurement_id, seq, msg_id, created_utc, detection, spectrum) VALUES
                  ('F-1', 0, 'f1', 0, CAST('{"schema":"xrf.measurement-event/1","reason":"analysis failed: no model loaded: x"}' AS BLOB), zeroblob(3)),
                  ('F-2', 0, 'f2', 0, CAST('{"schema":"xrf.measurement-event/1","reason":"analysis failed: no model loaded: y"}' AS BLOB), zeroblob(3));
                """;
            fill.Parameters.AddWithValue("$rows", StoredRows);
            fill.ExecuteNonQuery();
        }

        using (var plan = connection.CreateCommand())
        {
            plan.CommandText = "EXPLAIN QUERY PLAN " + SqliteOutbox.AwaitingReanalysisCountSql(prefixes);
            using var reader = plan.ExecuteReader();
            Assert.True(reader.Read());
            Assert.Contains($"USING INDEX {SqliteOutbox.AwaitingReanalysisIndex}", reader.GetString(3), StringComparison.Ordinal);
        }

        Assert.Equal(raw.SQLITE_OK, raw.sqlite3_prepare_v2(connection.Handle, SqliteOutbox.AwaitingReanalysisCountSql(prefixes), out sqlite3_stmt statement));
        try
        {
            Assert.Equal(raw.SQLITE_ROW, raw.sqlite3_step(statement));
            Assert.Equal(2, raw.sqlite3_column_int64(statement, 0)); // F-1, F-2
            int steps = raw.sqlite3_stmt_status(statement, raw.SQLITE_STMTSTATUS_VM_STEP, 0);
            Assert.True(steps < MaximumVmSteps, $"counting 2 awaiting rows among {StoredRows} took {steps} VM steps: it reads the table");
        }
        finally
        {
            raw.sqlite3_finalize(statement);
        }
    }
}
