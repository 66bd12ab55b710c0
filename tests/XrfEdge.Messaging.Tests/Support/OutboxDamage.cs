using Microsoft.Data.Sqlite;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>Real corruption of an outbox file that a process has open; shared (linked) with the service's store tests.</summary>
public static class OutboxDamage
{
    /// <summary>
    /// Damages the page holding the outbox table's root (sqlite_master.rootpage) behind the open outbox's back, as a
    /// failing SD card or a stray writer would: the WAL is checkpointed into the file first (so the page is read from the
    /// file, not from the WAL), the page overwritten with 0xFF (not a valid b-tree page type, sqlite.org/fileformat2.html
    /// §1.6), then a row committed from a second connection, so that the outbox's connection sees the WAL change and
    /// drops its page cache (a WAL reader keeps it otherwise) and reads the damaged page on its next statement.
    /// </summary>
    /// <param name="databasePath">The outbox file.</param>
    public static void DamageOutboxTable(string databasePath) => DamageTable(databasePath, "outbox");

    /// <summary>As <see cref="DamageOutboxTable"/>, for the root page of <paramref name="table"/> (e.g. "results").</summary>
    /// <param name="databasePath">The outbox file.</param>
    /// <param name="table">The table whose root page is overwritten.</param>
    public static void DamageTable(string databasePath, string table)
    {
        using var other = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        other.Open();
        using var command = other.CreateCommand();
        command.CommandText = "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = $table";
        command.Parameters.AddWithValue("$table", table);
        var rootPage = (long)command.ExecuteScalar()!;
        command.Parameters.Clear();
        command.CommandText = "PRAGMA page_size";
        var pageSize = (int)(long)command.ExecuteScalar()!;
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        command.ExecuteNonQuery();
        using (var file = new FileStream(databasePath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.Position = (rootPage - 1) * pageSize;
            file.Write(Enumerable.Repeat((byte)0xFF, pageSize).ToArray());
            file.Flush(flushToDisk: true);
        }

        command.CommandText = "INSERT INTO counters(name, value) VALUES ('damage-test', 1)";
        command.ExecuteNonQuery();
    }
}
