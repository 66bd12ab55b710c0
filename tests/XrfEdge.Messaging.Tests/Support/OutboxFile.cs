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

    /// <summary>
    /// Holds the file under an exclusive lock until the returned connection is disposed, as a <c>sqlite3</c> shell or a
    /// backup tool with <c>PRAGMA locking_mode=EXCLUSIVE</c> and an open write transaction does: every other connection's
    /// read then fails with SQLITE_BUSY (5), in WAL mode too ("If another connection has the database open in exclusive
    /// locking mode then all queries against the database will return SQLITE_BUSY", sqlite.org/wal.html §"Sometimes
    /// Queries Return SQLITE_BUSY In WAL Mode"). SQLite's POSIX locks are per process, but its unix VFS gives a second
    /// connection in the same process the same answer, so no child process is needed. Close the outbox first: its own
    /// connection's shared lock would make this one wait.
    /// </summary>
    public static SqliteConnection LockExclusively(string databasePath)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE;";
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes the database's write lock from a second connection until the returned connection is disposed (what a hand-run
    /// <c>sqlite3</c> holding a transaction does), so every write of the outbox fails with SQLITE_BUSY after its busy
    /// timeout while reads go on (WAL).
    /// </summary>
    public static SqliteConnection LockForWriting(string databasePath)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());
        try
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "BEGIN IMMEDIATE";
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Puts a listening Unix socket at <paramref name="path"/> until disposed: a path that exists and is not a directory,
    /// but that open(2) refuses (ENXIO), so that SQLite's open fails with SQLITE_CANTOPEN (14) as it does for a file this
    /// user may not read, also for root, whom file modes do not stop.
    /// </summary>
    public static System.Net.Sockets.Socket BindUnixSocket(string path)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

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
