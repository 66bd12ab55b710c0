using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using XrfEdge.Inference;
using XrfEdge.Inference.Model;
using XrfEdge.Service.Native;
using XrfEdge.Service.Options;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;

namespace XrfEdge.Service.Pipeline;

/// <summary>
/// The analysis stage's hold on its model. A model the encoder refuses (<see cref="ModelContractException"/>: file or
/// card missing, unreadable ONNX, card mismatch, a graph ONNX Runtime will not load) does not stop the instrument: the
/// service runs without analysis — it measures, stores and publishes every measurement as "analysis failed: no model
/// loaded: …" with its spectrum, drains the outbox and answers commands — and says so in the journal (Critical 8073),
/// the retained status (<c>model</c> null, <c>model_error</c>) and systemd's STATUS line. A corrupt model pushed by an
/// update therefore costs the analysis, not the instrument, and a fixed model is picked up without a restart: whenever
/// the model or card file changes (any replacement or rewrite, appearance: <see cref="Fingerprint"/>) the next <see cref="TryLoad"/> opens it again
/// (<see cref="Hosting.ModelWatcher"/> polls; an analysis call also tries). Once a model is loaded it is kept: a later
/// change of the file is taken at the next restart, as before (install.sh restarts the service).
/// Anything else that stops the first load (the ONNX Runtime library itself missing) is a start-up failure, as before.
/// </summary>
internal sealed class ModelSlot : ISpectrumAnalyzer
{
    private readonly Func<ISpectrumAnalyzer> _open;
    private readonly Func<string> _fingerprint;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private ISpectrumAnalyzer? _analyzer;
    private string? _problem;
    private string? _refusedFingerprint;
    private bool _disposed;

    /// <summary>Tries the first load at once; a refused model leaves the slot empty (<see cref="Problem"/> says why).</summary>
    /// <param name="open">Opens the analyzer over the model files (throws <see cref="ModelContractException"/> on a bad model).</param>
    /// <param name="fingerprint">Identifies the files' current state; a refused model is tried again only when it changes.</param>
    /// <param name="logger">Gets 8073 (refused) and 8074 (loaded after a refusal).</param>
    public ModelSlot(Func<ISpectrumAnalyzer> open, Func<string> fingerprint, ILogger logger)
    {
        _open = open ?? throw new ArgumentNullException(nameof(open));
        _fingerprint = fingerprint ?? throw new ArgumentNullException(nameof(fingerprint));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        TryLoad();
    }

    /// <summary>Raised (outside the lock) when a model was loaded after a refusal.</summary>
    public event Action? Loaded;

    /// <summary>
    /// Raised (outside the lock) when changed files were refused again: <see cref="Problem"/> now holds the new reason,
    /// which the status must show instead of the one before.
    /// </summary>
    public event Action? Refused;

    /// <summary>The loaded model, or null while none is.</summary>
    public ModelIdentity? Model => Volatile.Read(ref _analyzer)?.Model;

    /// <summary>Why no model is loaded (the encoder's sentence, naming the file), or null when one is.</summary>
    public string? Problem
    {
        get
        {
            lock (_gate)
            {
                return _problem;
            }
        }
    }

    /// <summary>
    /// Loads the model if none is loaded and the files changed since the last refusal; cheap otherwise (two
    /// <c>statx</c> calls while empty, nothing once loaded).
    /// </summary>
    /// <returns>Whether a model is loaded now.</returns>
    public bool TryLoad()
    {
        if (Volatile.Read(ref _analyzer) is not null)
        {
            return true;
        }

        bool afterRefusal;
        ISpectrumAnalyzer? opened;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_analyzer is not null)
            {
                return true;
            }

            string fingerprint = _fingerprint();
            if (fingerprint == _refusedFingerprint)
            {
                return false;
            }

            afterRefusal = _refusedFingerprint is not null;
            try
            {
                opened = _open();
            }
            // IOException/UnauthorizedAccessException: the file changed or vanished between the checks and the read
            // (an update copying it in); the next change of the fingerprint tries again. After a refusal the service
            // is running without a model, so whatever else a new file makes the encoder throw is a refusal too: it
            // must not escape into the analysis stage or the watcher and stop the instrument. Only the first load (at
            // start-up) lets other errors through, such as a missing ONNX Runtime library, which no model file fixes.
            catch (Exception ex) when (ex is ModelContractException or IOException or UnauthorizedAccessException || (afterRefusal && ex is not OutOfMemoryException))
            {
                _refusedFingerprint = fingerprint;
                _problem = ex.Message;
                Log.ModelRefused(_logger, ex.Message);
                opened = null;
            }

            if (opened is not null)
            {
                _refusedFingerprint = null;
                _problem = null;
                Volatile.Write(ref _analyzer, opened);
            }
        }

        if (opened is null)
        {
            if (afterRefusal)
            {
                // Changed files refused for a (possibly) new reason: the status must not keep showing the old one.
                Refused?.Invoke();
            }

            return false;
        }

        if (afterRefusal)
        {
            Log.ModelLoadedLate(_logger, opened.Model?.Name ?? "?", opened.Model?.Version ?? "?", opened.Model?.Precision ?? "?");
            Loaded?.Invoke();
        }

        return true;
    }

    /// <exception cref="ModelUnavailableException">No model is loaded (and the files have not changed into a valid one).</exception>
    public IReadOnlyList<Identification> Identify(IReadOnlyList<RawSpectrum> spectra)
    {
        var analyzer = Volatile.Read(ref _analyzer);
        if (analyzer is null)
        {
            TryLoad();
            analyzer = Volatile.Read(ref _analyzer) ?? throw new ModelUnavailableException(Problem ?? "the model is not loaded");
        }

        return analyzer.Identify(spectra);
    }

    public void Dispose()
    {
        ISpectrumAnalyzer? analyzer;
        lock (_gate)
        {
            _disposed = true;
            analyzer = _analyzer;
            _analyzer = null;
        }

        analyzer?.Dispose();
    }

    /// <summary>
    /// The state of the model and card files as the slot compares it: for each, the device, inode, size, modification
    /// time and status-change time (<c>statx</c>, as git compares its index), or "missing". Any replacement changes it,
    /// also one that keeps size and modification time: <c>rsync -a</c> or <c>install -p</c> renames a new inode into
    /// place, <c>cp -p</c> rewrites the old one, and the kernel sets the change time of both to now whatever time the
    /// tool gives the file (until 2026-11-24 size and modification time alone missed a same-size fix copied with its
    /// time kept, and the refusal stood until the next restart).
    /// </summary>
    public static string Fingerprint(ModelOptions model)
    {
        ArgumentNullException.ThrowIfNull(model);
        string modelPath = Path.GetFullPath(model.Path);
        string cardPath = model.CardPath ?? LineEncoder.CardPathFor(modelPath);
        return FileState(modelPath) + "|" + FileState(cardPath);
    }

    /// <summary>
    /// One file's part of <see cref="Fingerprint"/>. Never throws: a file that cannot be looked at (permission, I/O
    /// error) gives its errno, so the load that follows fails on the file and says why in the encoder's words.
    /// </summary>
    internal static string FileState(string path)
    {
        if (LibC.StatX(LibC.AT_FDCWD, path, 0, LibC.STATX_BASIC_STATS, out var stat) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno is LibC.ENOENT or LibC.ENOTDIR
                ? path + ":missing"
                : string.Create(CultureInfo.InvariantCulture, $"{path}:errno {errno}");
        }

        return string.Create(
            CultureInfo.InvariantCulture,
            $"{path}:{stat.DeviceMajor}.{stat.DeviceMinor}:{stat.Inode}:{stat.Size}:{stat.ModifySeconds}.{stat.ModifyNanoseconds:D9}:{stat.ChangeSeconds}.{stat.ChangeNanoseconds:D9}");
    }
}

/// <summary>Analysis was asked for while no model is loaded; the message says why the model was refused.</summary>
internal sealed class ModelUnavailableException(string problem) : InvalidOperationException(MessagePrefix + problem)
{
    /// <summary>How the message starts; a stored result's reason is <see cref="AnalysisWorker.FailedReasonPrefix"/> + this + the problem.</summary>
    public const string MessagePrefix = "no model loaded: ";

    /// <summary>The encoder's reason, naming the file.</summary>
    public string Problem { get; } = problem;
}
