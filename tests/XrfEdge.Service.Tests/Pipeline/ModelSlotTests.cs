using Microsoft.Extensions.Logging;
using XrfEdge.Inference;
using XrfEdge.Inference.Native;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Tests.Fakes;

namespace XrfEdge.Service.Tests.Pipeline;

/// <summary>
/// The service's hold on its model over the real encoder and ONNX Runtime: a broken model file leaves the instrument
/// running without analysis, and the fixed file is loaded when it changes.
/// </summary>
public sealed class ModelSlotTests : IDisposable
{
    private const int RefusedEvent = 8073;
    private const int LoadedLateEvent = 8074;

    private readonly string _folder = Directory.CreateTempSubdirectory("xrfedge-modelslot-").FullName;
    private readonly MemoryLogProvider _log = new();
    private readonly string _model;
    private int _opens;

    public ModelSlotTests()
    {
        // The card lists its model files by name, so the copy keeps the test encoder's name.
        _model = Path.Combine(_folder, Path.GetFileName(RepositoryRoot.TestModel));
        File.Copy(LineEncoder.CardPathFor(RepositoryRoot.TestModel), LineEncoder.CardPathFor(_model));
    }

    public void Dispose()
    {
        _log.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void Construct_CorruptModelFile_EmptySlotNamingTheFile_AndAnalysisRefusedWithThatReason()
    {
        File.WriteAllText(_model, "not an ONNX model: the update was cut off");
        using var slot = Slot();

        Assert.Null(slot.Model);
        Assert.Contains(_model, slot.Problem, StringComparison.Ordinal);
        var logged = Assert.Single(_log.WithEvent(RefusedEvent));
        Assert.Equal(LogLevel.Critical, logged.Level);
        Assert.Contains(_model, logged.Message, StringComparison.Ordinal);

        var refused = Assert.Throws<ModelUnavailableException>(() => slot.Identify([FakeSpectrumSource.Spectrum("M-1")]));
        Assert.StartsWith("no model loaded: ", refused.Message, StringComparison.Ordinal);
        Assert.Equal(slot.Problem, refused.Problem);
    }

    [Fact]
    public void TryLoad_FilesUnchanged_DoesNotOpenAgainNorLogAgain()
    {
        File.WriteAllText(_model, "garbage");
        using var slot = Slot();
        int opensAfterStart = _opens;

        for (int i = 0; i < 5; i++)
        {
            Assert.False(slot.TryLoad());
            Assert.Throws<ModelUnavailableException>(() => slot.Identify([FakeSpectrumSource.Spectrum("M-" + i)]));
        }

        Assert.Equal(1, opensAfterStart);
        Assert.Equal(opensAfterStart, _opens);
        Assert.Single(_log.WithEvent(RefusedEvent));
    }

    [Fact]
    public void TryLoad_FixedModelCopiedOverTheBrokenOne_LoadsRaisesLoadedAndAnalyses()
    {
        File.WriteAllText(_model, "garbage");
        using var slot = Slot();
        int loaded = 0;
        slot.Loaded += () => loaded++;

        File.Copy(RepositoryRoot.TestModel, _model, overwrite: true);

        Assert.True(slot.TryLoad());
        Assert.NotNull(slot.Model);
        Assert.Null(slot.Problem);
        Assert.Equal(1, loaded);
        Assert.Single(_log.WithEvent(LoadedLateEvent));
        var result = Assert.Single(slot.Identify([FakeSpectrumSource.Spectrum("M-1")]));
        Assert.Equal("M-1", result.SpectrumId);
    }

    [Fact]
    public void Identify_ModelAppearsWhereNoneWas_LoadsOnTheAnalysisCall()
    {
        // No model file at all (a path typo, or an update that deleted it): not a profile error any more.
        using var slot = Slot();
        Assert.Contains("does not exist", slot.Problem, StringComparison.Ordinal);

        File.Copy(RepositoryRoot.TestModel, _model);

        Assert.Single(slot.Identify([FakeSpectrumSource.Spectrum("M-1")]));
        Assert.NotNull(slot.Model);
    }

    [Fact]
    public void TryLoad_CardChangedIntoAMismatch_StillRefusedWithTheNewReason_AndLoggedOncePerChange()
    {
        File.Copy(RepositoryRoot.TestModel, _model);
        var card = LineEncoder.CardPathFor(_model);
        File.WriteAllText(card, "{ \"truncated\": ");
        using var slot = Slot();
        string first = slot.Problem!;
        Assert.Contains(card, first, StringComparison.Ordinal);

        File.WriteAllText(card, "[]"); // another broken card: a new reason, logged again
        Assert.False(slot.TryLoad());

        Assert.NotEqual(first, slot.Problem);
        Assert.Equal(2, _log.WithEvent(RefusedEvent).Count);
    }

    [Fact]
    public void Construct_RuntimeLibraryMissing_IsStillAStartUpFailure()
    {
        // Not a model problem: no model file can fix a missing ONNX Runtime, so the service must not sit waiting for one.
        File.Copy(RepositoryRoot.TestModel, _model);
        var options = new ModelOptions { Path = _model, OnnxRuntimeLibraryPath = Path.Combine(_folder, "libonnxruntime-missing.so") };

        Assert.Throws<OnnxRuntimeException>(() => new ModelSlot(() => new EncoderAnalyzer(options, new DecoderOptions(), _log), () => ModelSlot.Fingerprint(options), _log));
        Assert.Empty(_log.WithEvent(RefusedEvent));
    }

    [Fact]
    public void Fingerprint_ChangesWithContentSizeAndAppearance_NotWithReading()
    {
        var options = new ModelOptions { Path = _model };
        string missing = ModelSlot.Fingerprint(options);
        File.WriteAllText(_model, "a");
        string small = ModelSlot.Fingerprint(options);
        _ = File.ReadAllBytes(_model);
        Assert.Equal(small, ModelSlot.Fingerprint(options));
        File.WriteAllText(_model, "ab");

        Assert.NotEqual(missing, small);
        Assert.NotEqual(small, ModelSlot.Fingerprint(options));
    }

    [Fact]
    public void TryLoad_FixedModelRenamedIntoPlaceWithTheBrokenOnesSizeAndTime_Loads()
    {
        // rsync -a / install -p: the fix is written to a temporary file, given the original's time and renamed over
        // it. A broken copy of the same size (bytes flipped in transit) and the same time left size and modification
        // time as they were, so the refusal stood until a restart.
        byte[] good = File.ReadAllBytes(RepositoryRoot.TestModel);
        byte[] broken = (byte[])good.Clone();
        broken[broken.Length / 2] ^= 0xFF;
        var time = new DateTime(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);
        File.WriteAllBytes(_model, broken);
        File.SetLastWriteTimeUtc(_model, time);
        using var slot = Slot();
        Assert.Null(slot.Model);

        string temporary = _model + ".rsync-tmp";
        File.WriteAllBytes(temporary, good);
        File.SetLastWriteTimeUtc(temporary, time);
        File.Move(temporary, _model, overwrite: true);

        Assert.True(slot.TryLoad());
        Assert.NotNull(slot.Model);
    }

    [Fact]
    public void Fingerprint_FileRewrittenInPlaceWithItsTimeKept_Changes()
    {
        // cp -p over an existing file: same inode, same size, the old modification time written back; the kernel still
        // sets the status-change time. Its timestamps advance with its coarse clock (one tick, ≤ 10 ms), so the test
        // lets one pass between the writes: a rewrite within the same tick as the refused file's own write is not seen.
        var options = new ModelOptions { Path = _model };
        var time = new DateTime(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);
        File.WriteAllText(_model, "aaaa");
        File.SetLastWriteTimeUtc(_model, time);
        string before = ModelSlot.Fingerprint(options);
        Thread.Sleep(50);

        using (var stream = new FileStream(_model, FileMode.Open, FileAccess.Write))
        {
            stream.Write("bbbb"u8);
        }

        File.SetLastWriteTimeUtc(_model, time);

        Assert.Equal(4, new FileInfo(_model).Length);
        Assert.NotEqual(before, ModelSlot.Fingerprint(options));
    }

    [Fact]
    public void Fingerprint_PathThroughAFile_IsMissingNotAnError()
    {
        // ENOTDIR: the model "folder" is a file (a botched unpack). The load that follows names the path.
        string blocker = Path.Combine(_folder, "not-a-folder");
        File.WriteAllText(blocker, "x");
        var options = new ModelOptions { Path = Path.Combine(blocker, "model.onnx") };

        Assert.Contains(":missing", ModelSlot.Fingerprint(options), StringComparison.Ordinal);
    }

    private ModelSlot Slot()
    {
        var options = new ModelOptions { Path = _model };
        return new ModelSlot(
            () =>
            {
                _opens++;
                return new EncoderAnalyzer(options, new DecoderOptions(), _log);
            },
            () => ModelSlot.Fingerprint(options),
            _log);
    }
}
