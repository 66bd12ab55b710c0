using XrfEdge.Service.Tests.Fakes;
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

    [Fact]
    public async Task OpenAsync_ManyUnreadableLines_NamesTheFirstFewAndCountsAll()
    {
        // A file where every second line is bad (a broken export, a wrong file) logged one warning per line, thousands
        // into the journal at each start; since 2026-11-24 the first ReplaySpectrumSource.NamedSkippedLines are named and
        // the count covers the rest. Event ids: src/XrfEdge.Service/Hosting/Log.cs (8090 each line, 8091 the count).
        var counts = "[" + string.Join(',', Enumerable.Repeat("1", 64)) + "]";
        var path = Path.Combine(_dir, "half-bad.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, 100).Select(i => i % 2 == 0
            ? $"{{\"id\":\"s{i}\",\"counts\":{counts},\"calibration\":{{\"offset_kev\":0,\"gain_kev_per_channel\":0.1}}}}"
            : "not json"));
        var log = new MemoryLogProvider();
        var replay = new ReplaySpectrumSource(path, loop: false, paced: false, TimeProvider.System, log);

        await replay.OpenAsync(CancellationToken.None);

        Assert.Equal(50, replay.Spectra.Count);
        Assert.Equal(50, replay.SkippedLines);
        var named = log.WithEvent(8090);
        Assert.Equal(ReplaySpectrumSource.NamedSkippedLines, named.Count);
        Assert.Contains($"{path} line 2: ", named[0].Message, StringComparison.Ordinal);
        var summary = Assert.Single(log.WithEvent(8091)).Message;
        Assert.Contains("50 unreadable lines skipped", summary, StringComparison.Ordinal);
        Assert.Contains($"the first {ReplaySpectrumSource.NamedSkippedLines} named above", summary, StringComparison.Ordinal);
    }
}
