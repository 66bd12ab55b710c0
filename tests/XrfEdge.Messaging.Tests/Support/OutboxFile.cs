using Microsoft.Data.Sqlite;

namespace XrfEdge.Messaging.Tests.Support;

/// <summary>Reads an outbox file behind the outbox's back, read-only, for assertions; shared (linked) with the service's store tests.</summary>
public static class OutboxFile
{
    /// <summary>The queued rows, oldest first: topic and payload.</summary>
    public static List<(string Topic, byte[] Payload)> Rows(string databasePath) =>
        Read(databasePath, "SELECT topic, payload FROM outbox ORDER BY id", r => (r.GetString(0), (byte[])r[1]));

    /// <summary>The stored results (the get_spectrum archive), oldest first: measurement id and the bytes counted against ResultRetentionBytes.</summary>
    public static List<(string Id, long Bytes)> StoredResults(string databasePath) =>
        Read(databasePath, "SELECT measurement_id, length(detection) + COALESCE(length(spectrum), 0) FROM results ORDER BY rowid", r => (r.GetString(0), r.GetInt64(1)));

    private static List<T> Read<T>(string databasePath, string select, Func<SqliteDataReader, T> row)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = select;
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(row(reader));
        }

        return rows;
    }
}
