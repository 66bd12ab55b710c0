using XrfEdge.Service.Pipeline;

namespace XrfEdge.Service.Tests.Pipeline;

/// <summary>The replay source's start-up on files with unreadable lines (the readable case: OutboxExportCommandTests).</summary>
public sealed class ReplaySpectrumSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xrfedge-replay-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task OpenAsync_NoReadableLine_StopsTheStartUpCountingTheSkippedLines()
    {
        // Since 2026-11-24 unreadable lines are skipped; a file with nothing else must still stop the start-up, saying
        // why it holds no spectra (before, the message named only the first bad line).
        var path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllLines(path, ["{\"id\":\"a\",\"counts\":[1]}", "not json"]);
        var replay = new ReplaySpectrumSource(path, loop: false, paced: false, TimeProvider.System);

        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => replay.OpenAsync(CancellationToken.None));

        Assert.Equal($"replay file {path}: no readable spectrum (2 lines skipped, each named above)", refused.Message);
        Assert.Equal(2, replay.SkippedLines);
    }
}
