using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using XrfEdge.Inference.Benchmarking;
using XrfEdge.Messaging.Outbox;
using XrfEdge.Messaging.Payloads;
using XrfEdge.Messaging.Tests.Support;
using XrfEdge.Service.Cli;
using XrfEdge.Service.Options;
using XrfEdge.Service.Pipeline;
using XrfEdge.Service.Tests.Fakes;
using XrfEdge.Spectra;
using XrfEdge.Spectra.Identification;
using XrfEdge.Spectra.Interchange;
using InstrumentStatus = XrfEdge.Service.Hosting.InstrumentStatus;
using MeasurementResult = XrfEdge.Service.Pipeline.MeasurementResult;

namespace XrfEdge.Service.Tests.Cli;

/// <summary>
/// <c>xrfedge outbox export</c>: the spectra the service stored (completed measurements and, since 2026-11-23, failed
/// and aborted ones, e.g. measured without a model) come out as .jsonl that <c>identify</c> reads, equal to what was
/// stored, read-only while the service has the file open. The outbox is written by the service's own publisher
/// (<see cref="MqttResultPublisher"/>, the real <c>DetectionPublisher</c> and <c>SqliteOutbox</c>).
/// </summary>
public sealed class OutboxExportCommandTests : IDisposable
{
    private const string Device = "XRF-TEST-1";
    private const string NoModel = "analysis failed: no model loaded: Model file '/opt/xrfedge/models/m.onnx' is truncated";
    private readonly string _folder = Directory.CreateTempSubdirectory("xrfedge-outbox-export-").FullName;
    private readonly FakeTimeProvider _clock = new(); // starts 2026-03-01T10:00:00Z

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string DbPath => Path.Combine(_folder, "outbox.db");

    private string OutPath => Path.Combine(_folder, "export.jsonl");

    /// <summary>The int8 test encoder of scripts/models/make_test_model.py.</summary>
    private static string TestModel => RepositoryRoot.TestModel;

    private static (int ExitCode, string Output, string Error) Invoke(params string[] args)
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        var exit = XrfEdgeCommandLine.Build().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>
    /// A measured spectrum with everything the format carries: the benchmark's 2048 channels (distinct per index), a
    /// quadratic calibration term, times that are not whole seconds, and a Rh tube at 40 kV / 25 µA (a handheld's
    /// usual setting, docs/mqtt.md's detection example).
    /// </summary>
    private static RawSpectrum Measured(string id, int index) => BenchmarkSpectra.Create(index + 1, seed: 7)[index] with
    {
        Id = id,
        Calibration = new XrfEdge.Spectra.Calibration.EnergyCalibration(-0.0123, 0.01497, 2.5e-8),
        LiveTime = TimeSpan.FromSeconds(9.875),
        RealTime = TimeSpan.FromSeconds(10.4375),
        Excitation = new Excitation("Rh", 40, 25),
    };

    private MeasurementResult Completed(string id, int index)
    {
        var now = _clock.GetUtcNow();
        return new(id, MeasurementMode.Triggered, now, now.AddSeconds(10), Measured(id, index), new Identification
        {
            SpectrumId = id,
            Elements = [new ElementDetection("Fe", 26, 0.9f, ["Fe-KL3"])],
            Lines = [],
            LineProbabilities = [],
            Model = new ModelIdentity("m", "1", "ab", "int8"),
        }, MeasurementOutcome.Completed);
    }

    /// <summary>What the service stores for a measurement taken while its model file is broken (docs/service.md "Without a model").</summary>
    private MeasurementResult Failed(string id, int index)
    {
        var now = _clock.GetUtcNow();
        return new(id, MeasurementMode.Triggered, now, now.AddSeconds(10), Measured(id, index), null, MeasurementOutcome.Failed, NoModel);
    }

    private MeasurementResult Aborted(string id, RawSpectrum? spectrum)
    {
        var now = _clock.GetUtcNow();
        return new(id, MeasurementMode.Triggered, now, now.AddSeconds(3), spectrum, null, MeasurementOutcome.Aborted, "stop command");
    }

    private MqttResultPublisher Publisher()
    {
        var settings = new ServiceSettings();
        settings.Mqtt.DeviceId = Device;
        settings.Mqtt.Port = 1; // never started: the outbox is what is looked at
        settings.Outbox.Path = DbPath;
        return StandalonePublisher.Create(settings, _clock);
    }

    /// <summary>
    /// C1, F1 (no model), C2, A0 (aborted before any data: no spectrum), A1 (aborted after data came in), F2, one
    /// minute apart on the clock.
    /// </summary>
    private async Task StoreMixedAsync()
    {
        await using var publisher = Publisher();
        // Made when stored, so that each one's acquisition starts at the clock's time then.
        Func<MeasurementResult>[] results = [() => Completed("C1", 0), () => Failed("F1", 1), () => Completed("C2", 2), () => Aborted("A0", null), () => Aborted("A1", Measured("A1", 3)), () => Failed("F2", 4)];
        foreach (var result in results)
        {
            await publisher.StoreAsync(result(), CancellationToken.None);
            _clock.Advance(TimeSpan.FromMinutes(1));
        }
    }

    private static List<LabelledSpectrum> ReadBack(string path)
    {
        var read = SpectrumJsonl.ReadFile(path).ToList();
        Assert.All(read, r => Assert.True(r.Spectrum is not null, r.Error));
        return [.. read.Select(r => r.Spectrum!)];
    }

    /// <summary>The stored spectra and msg_ids, straight from the results table.</summary>
    private Dictionary<string, (RawSpectrum Spectrum, string MsgId)> Stored()
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT measurement_id, spectrum, msg_id FROM results WHERE spectrum IS NOT NULL";
        using var reader = command.ExecuteReader();
        var stored = new Dictionary<string, (RawSpectrum, string)>(StringComparer.Ordinal);
        while (reader.Read())
        {
            stored[reader.GetString(0)] = (SpectrumPayload.Decode((byte[])reader[1]), reader.GetString(2));
        }

        return stored;
    }

    private void Sql(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public async Task Export_CompletedAndIncomplete_EverySpectrumOldestFirstEqualToTheStoredOne()
    {
        await StoreMixedAsync();

        var (exit, output, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);

        Assert.True(exit == 0, error);
        Assert.Empty(output);
        Assert.Equal($"xrfedge outbox export: wrote 5 spectra, skipped 0 damaged rows, to '{OutPath}' (0 stored results without a spectrum)", error.Trim()); // A0's event is not a stored result
        var exported = ReadBack(OutPath);
        Assert.Equal(["C1", "F1", "C2", "A1", "F2"], exported.Select(s => s.Spectrum.Id)); // insertion order; A0 had no spectrum
        var stored = Stored();
        foreach (var spectrum in exported.Select(s => s.Spectrum))
        {
            var (original, msgId) = stored[spectrum.Id];
            Assert.Equal(original.Counts, spectrum.Counts);
            Assert.Equal(original.Calibration, spectrum.Calibration);
            Assert.Equal(original.Excitation, spectrum.Excitation);
            Assert.Equal(original.LiveTime, spectrum.LiveTime);
            Assert.Equal(original.RealTime, spectrum.RealTime);
            Assert.Equal(msgId, spectrum.Metadata["msg_id"]);
            Assert.Equal(Device, spectrum.Metadata["device"]);
        }

        // And equal to what was measured: the protobuf in between loses nothing the format carries.
        var measured = Measured("F1", 1);
        var f1 = exported[1].Spectrum;
        Assert.Equal(measured.Counts, f1.Counts);
        Assert.Equal(measured.Calibration, f1.Calibration);
        Assert.Equal(new Excitation("Rh", 40, 25), f1.Excitation);
        Assert.Equal(TimeSpan.FromSeconds(9.875), f1.LiveTime);

        Assert.Equal("completed", exported[0].Spectrum.Metadata["outcome"]);
        Assert.Equal("1", exported[0].Spectrum.Metadata["seq"]);
        Assert.Equal("2", exported[2].Spectrum.Metadata["seq"]);
        Assert.False(exported[0].Spectrum.Metadata.ContainsKey("reason"));
        Assert.Equal("failed", f1.Metadata["outcome"]);
        Assert.Equal(NoModel, f1.Metadata["reason"]);
        Assert.False(f1.Metadata.ContainsKey("seq")); // events take no seq (docs/mqtt.md §1)
        Assert.Equal("aborted", exported[3].Spectrum.Metadata["outcome"]);
        Assert.Equal("stop command", exported[3].Spectrum.Metadata["reason"]);

        // StoreMixedAsync: one minute per measurement from 10:00; F1 was the second.
        var start = DateTimeOffset.Parse(f1.Metadata["acquired_start"], CultureInfo.InvariantCulture);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 1, 0, TimeSpan.Zero), start);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 1, 0, TimeSpan.Zero), DateTimeOffset.Parse(f1.Metadata["stored_utc"], CultureInfo.InvariantCulture));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp")); // the temporary file was renamed into place
    }

    [Fact]
    public async Task Export_Incomplete_OnlyTheMeasurementsThatDidNotComplete()
    {
        await StoreMixedAsync();

        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath, "--incomplete");

        Assert.True(exit == 0, error);
        Assert.Equal(["F1", "A1", "F2"], ReadBack(OutPath).Select(s => s.Spectrum.Id));
        Assert.Contains("wrote 3 spectra", error, StringComparison.Ordinal);
        Assert.Contains("2 completed ones left out by --incomplete", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_FailedScanPointsBeforeAndAfterTheirAnalysis_NamedByScanAndIndexWithoutADetectionsSeq()
    {
        // Since 2026-11-24 a scan point whose analysis failed is stored with its chunk (docs/service.md "Without a
        // model"). Its row must say which map point it is, and once analysed it is not a detection: the seq column it
        // shares is the detection's before it (C1's, 1), which the export used to write as the point's own.
        var now = _clock.GetUtcNow();
        await using (var publisher = Publisher())
        {
            await publisher.StoreAsync(Completed("C1", 0), CancellationToken.None);
            for (int i = 0; i < 2; i++)
            {
                await publisher.StoreAsync(new MeasurementResult($"P{i}", MeasurementMode.Scan, now, now.AddSeconds(1), Measured($"P{i}", i + 1), null, MeasurementOutcome.Failed, NoModel, "S-1", i), CancellationToken.None);
            }

            await publisher.StoreScanSummaryAsync(new ScanSummary("S-1", now, now.AddSeconds(2), 2, 2, false, new Dictionary<string, long>()), CancellationToken.None);
            var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath, "--incomplete");
            Assert.True(exit == 0, error);
            var failed = ReadBack(OutPath);
            Assert.Equal(["P0", "P1"], failed.Select(s => s.Spectrum.Id));
            Assert.All(failed, s => Assert.Equal("S-1", s.Spectrum.Metadata["scan_id"]));
            Assert.Equal(["0", "1"], failed.Select(s => s.Spectrum.Metadata["scan_index"]));

            var analysed = Completed("P0", 1).Identification!;
            Assert.Equal([0L], await publisher.StoreReanalysedScanPointsAsync([new ReanalysedScanPoint("P0", "S-1", 0, Measured("P0", 1), analysed)], CancellationToken.None));
        }

        var (code, _, stderr) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);
        Assert.True(code == 0, stderr);
        var p0 = ReadBack(OutPath).Single(s => s.Spectrum.Id == "P0").Spectrum.Metadata;
        Assert.Equal("completed", p0["outcome"]);
        Assert.Equal("S-1", p0["scan_id"]);
        Assert.Equal("0", p0["scan_index"]);
        Assert.False(p0.ContainsKey("seq"));
    }

    [Fact]
    public async Task Export_Since_OnlyRowsStoredAtOrAfterThatTime()
    {
        await StoreMixedAsync();

        // StoreMixedAsync stores C2 at exactly 10:02: "at or after" keeps it.
        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath, "--since", "2026-03-01T10:02:00Z");
        Assert.True(exit == 0, error);
        Assert.Equal(["C2", "A1", "F2"], ReadBack(OutPath).Select(s => s.Spectrum.Id));

        // The same instant with an offset, together with --incomplete.
        (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath, "--since", "2026-03-01T11:02:00+01:00", "--incomplete");
        Assert.True(exit == 0, error);
        Assert.Equal(["A1", "F2"], ReadBack(OutPath).Select(s => s.Spectrum.Id));
    }

    [Fact]
    public async Task Export_SinceNotATime_ExitsOneNamingIt()
    {
        await StoreMixedAsync();
        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath, "--since", "yesterday");
        Assert.Equal(1, exit);
        Assert.Contains("--since 'yesterday'", error, StringComparison.Ordinal);
        Assert.False(File.Exists(OutPath));
    }

    [Fact]
    public async Task Identify_OnTheExportedFile_OneResultPerSpectrumWithTheMeasurementIds()
    {
        await StoreMixedAsync();
        Assert.Equal(0, Invoke("outbox", "export", "--db", DbPath, "-o", OutPath, "--incomplete").ExitCode);

        var (exit, output, error) = Invoke("identify", "-i", OutPath, "--model", TestModel, "--json");

        Assert.True(exit == 0, error + output);
        var ids = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            Assert.False(json.RootElement.TryGetProperty("error", out _), line);
            return json.RootElement.GetProperty("id").GetString();
        });
        Assert.Equal(["F1", "A1", "F2"], ids);
    }

    [Fact]
    public async Task Export_OneSpectrumBlobDamaged_RowSkippedAndNamedOthersExportedExitThree()
    {
        await StoreMixedAsync();
        // Ten 0xFF bytes: a varint that never ends, which no protobuf parser accepts.
        Sql("UPDATE results SET spectrum = X'FFFFFFFFFFFFFFFFFFFF' WHERE measurement_id = 'F1'");

        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);

        Assert.Equal(3, exit);
        Assert.Contains("skipped measurement 'F1'", error, StringComparison.Ordinal);
        Assert.Contains("stored spectrum is damaged", error, StringComparison.Ordinal);
        Assert.Contains("wrote 4 spectra, skipped 1 damaged rows", error, StringComparison.Ordinal);
        Assert.Equal(["C1", "C2", "A1", "F2"], ReadBack(OutPath).Select(s => s.Spectrum.Id));
    }

    [Fact]
    public async Task Export_SpectrumBlobParsesButLiveTimeOutOfRange_RowSkippedAndNamedExitThree()
    {
        // Found 2026-11-23: damage that still parses as protobuf (here a live time of +infinity, field 8 appended, the
        // last value of a field winning) threw OverflowException out of the export: a stack trace, no summary, the
        // hidden temporary file left beside the output, and the rows after it not exported.
        await StoreMixedAsync();
        // Tag 0x41 = field 8 (live_time_s), wire type 1 (64-bit); 00 00 00 00 00 00 F0 7F = +infinity, little-endian.
        Sql("UPDATE results SET spectrum = CAST(spectrum || X'41000000000000F07F' AS BLOB) WHERE measurement_id = 'F1'");

        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);

        Assert.Equal(3, exit);
        Assert.Contains("skipped measurement 'F1'", error, StringComparison.Ordinal);
        Assert.Contains("stored spectrum is damaged", error, StringComparison.Ordinal);
        Assert.Equal(["C1", "C2", "A1", "F2"], ReadBack(OutPath).Select(s => s.Spectrum.Id));
        Assert.Empty(Directory.GetFiles(_folder, ".*.tmp")); // no temporary file left beside the output
    }

    [Fact]
    public async Task Export_StoredSpectrumWithACalibrationTheLimitsRefuse_ExportedAsStoredMarkedAndCounted()
    {
        // Until 2026-11-24 a stored spectrum whose calibration the calibration limits refuse (local gain 0.0002–2
        // keV/channel, full scale ≤ 1000 keV; here 5 keV/channel, from an instrument calibrated before the limits) was
        // skipped: export, the way to get data out of a damaged or retired instrument, dropped it.
        await StoreMixedAsync();
        var refused = Measured("X1", 5) with { Calibration = new XrfEdge.Spectra.Calibration.EnergyCalibration(0.25, 5, 0) };
        var limits = refused.Calibration.Validate(refused.Counts.Length);
        Assert.NotNull(limits); // the premise: the limits refuse it
        StoreFailedWithoutAModel(refused); // written directly, as an older release left it

        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);

        Assert.Equal(0, exit); // nothing is damaged: the export is whole
        Assert.Contains("wrote 6 spectra (1 with a calibration outside the limits, as stored, marked calibration_problem)", error, StringComparison.Ordinal);
        var lines = File.ReadAllLines(OutPath);
        Assert.Equal(6, lines.Length);
        using var record = JsonDocument.Parse(lines[^1]);
        var root = record.RootElement;
        Assert.Equal("X1", root.GetProperty("id").GetString());
        Assert.Equal(refused.Counts, root.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()));
        Assert.Equal(0.25, root.GetProperty("calibration").GetProperty("offset_kev").GetDouble());
        Assert.Equal(5, root.GetProperty("calibration").GetProperty("gain_kev_per_channel").GetDouble());
        Assert.Equal(limits, root.GetProperty("metadata").GetProperty("calibration_problem").GetString());

        // A reader refuses that line by its calibration, naming it, and reads the others.
        var read = SpectrumJsonl.ReadFile(OutPath).ToList();
        Assert.Equal(5, read.Count(r => r.Spectrum is not null));
        Assert.Contains("calibration", Assert.Single(read, r => r.Spectrum is null).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportedFileWithACalibrationProblemLine_EveryReaderSkipsItNamingFileAndLineCountsItAndReadsTheRest()
    {
        // An export holding a line marked calibration_problem (a stored spectrum whose calibration the limits refuse, 5
        // keV/channel) first, then the five good ones. Until 2026-11-24 the service's replay source refused the whole file
        // at that line; identify's table printed the error among its results on stdout; no reader said how many it skipped.
        StoreFailedWithoutAModel(Measured("X1", 5) with { Calibration = new XrfEdge.Spectra.Calibration.EnergyCalibration(0.25, 5, 0) });
        await StoreMixedAsync();
        var (exported, _, summary) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);
        Assert.Equal(0, exported);
        Assert.Contains("1 with a calibration outside the limits", summary, StringComparison.Ordinal); // the premise
        string[] good = ["C1", "F1", "C2", "A1", "F2"];
        var named = $"{OutPath} line 1: ";

        var (identified, table, identifyErrors) = Invoke("identify", OutPath, "--model", TestModel);
        Assert.Equal(InferenceCli.ExitSomeFailed, identified);
        Assert.Equal(good, table.Split('\n').Where(l => l.Length > 0 && l[0] != ' ' && l.Contains(':', StringComparison.Ordinal) && !l.StartsWith("model ", StringComparison.Ordinal)).Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)]));
        Assert.Contains(named, identifyErrors, StringComparison.Ordinal);
        Assert.Contains("calibration", identifyErrors, StringComparison.Ordinal);
        Assert.Contains("1 of 6 spectra could not be read", identifyErrors, StringComparison.Ordinal);

        var (rebinned, rows, rebinErrors) = Invoke("rebin", "--input", OutPath, "--json");
        Assert.Equal(1, rebinned);
        Assert.Equal(good, rows.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).Where(r => r.TryGetProperty("counts", out _)).Select(r => r.GetProperty("id").GetString()));
        Assert.Contains(named, rebinErrors, StringComparison.Ordinal);
        Assert.Contains("1 of 6 spectra could not be rebinned", rebinErrors, StringComparison.Ordinal);

        var (_, _, evalErrors) = Invoke("eval", "--input", OutPath, "--model", TestModel);
        Assert.Contains("skipped " + named, evalErrors, StringComparison.Ordinal);

        var log = new MemoryLogProvider();
        var replay = new ReplaySpectrumSource(OutPath, loop: false, paced: false, TimeProvider.System, log);
        await replay.OpenAsync(CancellationToken.None);
        Assert.Equal(good, replay.Spectra.Select(s => s.Metadata["replay_id"]));
        Assert.Equal(1, replay.SkippedLines);
        // Event ids: src/XrfEdge.Service/Hosting/Log.cs (8090 ReplayLineSkipped, 8091 ReplayLinesSkipped).
        Assert.Contains(named, Assert.Single(log.WithEvent(8090)).Message, StringComparison.Ordinal);
        Assert.Contains("1 unreadable lines skipped", Assert.Single(log.WithEvent(8091)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_SpectrumCarryingACalibrationProblemKeyButAValidCalibration_NeitherMarkedNorCounted()
    {
        // calibration_problem is the export's own finding (since 2026-11-24). A spectrum can carry the key in its own
        // metadata (replayed from an exported line whose calibration was corrected by hand, the key left in). Until
        // 2026-11-24 (review) export took the key for its finding: it counted that spectrum "with a calibration outside
        // the limits" and left the stale claim in the record; the row's own facts win over the spectrum's keys.
        await StoreMixedAsync();
        var carried = Measured("K1", 5) with { Metadata = new Dictionary<string, string> { ["calibration_problem"] = "gain 5 keV/channel is outside 0.0002-2" } };
        Assert.Null(carried.Calibration.Validate(carried.Counts.Length)); // the premise: the limits take this calibration
        StoreFailedWithoutAModel(carried);

        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);

        Assert.Equal(0, exit);
        Assert.Contains("wrote 6 spectra, skipped 0", error, StringComparison.Ordinal);
        var read = SpectrumJsonl.ReadFile(OutPath).ToList();
        Assert.All(read, r => Assert.NotNull(r.Spectrum));
        Assert.DoesNotContain("calibration_problem", read[^1].Spectrum!.Spectrum.Metadata.Keys);
    }

    [Fact]
    public async Task Export_WhileTheServiceHoldsTheOutboxOpenForWriting_ExportsAndTheWriterGoesOn()
    {
        await using var publisher = Publisher(); // holds outbox.db.lock, as the running service does
        await publisher.StoreAsync(Failed("F1", 0), CancellationToken.None);
        await publisher.StoreAsync(Completed("C1", 1), CancellationToken.None);

        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);
        Assert.True(exit == 0, error);
        Assert.Equal(["F1", "C1"], ReadBack(OutPath).Select(s => s.Spectrum.Id));

        // The export took no lock and wrote nothing: the writer stores on, and a second export sees the new row.
        await publisher.StoreAsync(Failed("F2", 2), CancellationToken.None);
        (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);
        Assert.True(exit == 0, error);
        Assert.Equal(["F1", "C1", "F2"], ReadBack(OutPath).Select(s => s.Spectrum.Id));
    }

    [Fact]
    public void Export_MissingDatabase_ExitsTwoNamingItAndWritesNothing()
    {
        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);
        Assert.Equal(2, exit);
        Assert.Contains(DbPath, error, StringComparison.Ordinal);
        Assert.False(File.Exists(OutPath));
    }

    [Fact]
    public void Export_NotAnOutbox_ExitsTwoNamingIt()
    {
        File.WriteAllText(DbPath, "this is a text file, not SQLite\n");
        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);
        Assert.Equal(2, exit);
        Assert.Contains($"'{DbPath}' is not an XrfEdge outbox database", error, StringComparison.Ordinal);
        Assert.False(File.Exists(OutPath));
    }

    [Fact]
    public void Export_DatabaseFolderMissing_ExitsTwoNamingTheFolder()
    {
        var folder = Path.Combine(_folder, "no-such-folder");
        var (exit, _, error) = Invoke("outbox", "export", "--db", Path.Combine(folder, "outbox.db"), "-o", OutPath);
        Assert.Equal(OutboxExportCommand.ExitUnreadable, exit);
        Assert.Contains($"its folder '{folder}' does not exist either", error, StringComparison.Ordinal);
        Assert.False(File.Exists(OutPath));
    }

    // Until 2026-11-24 a directory exited 2 as "does not exist" and a locked outbox, after 30 s, exited 2 as "not an
    // XrfEdge outbox database": the operator was told to move a healthy outbox aside. No permission (also exit 4) cannot
    // be tested here: the tests run as root, whom file modes do not stop.
    [Fact]
    public void Export_DatabaseIsADirectory_ExitsFourSayingSoAndWritesNothing()
    {
        Directory.CreateDirectory(DbPath);

        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);

        Assert.Equal(OutboxExportCommand.ExitUnavailable, exit);
        Assert.Equal($"xrfedge outbox export: Outbox database '{DbPath}' cannot be opened: it is a directory, not a file. Nothing written.", error.Trim());
        Assert.False(File.Exists(OutPath));
    }

    [Fact]
    public async Task Export_LockedByAnotherProcess_ExitsFourBusyNotNotAnOutboxAndExportsOnceReleased()
    {
        await StoreMixedAsync();

        using (OutboxFile.LockExclusively(DbPath))
        {
            var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);

            Assert.Equal(OutboxExportCommand.ExitUnavailable, exit);

            // SQLITE_BUSY is 5 (sqlite.org/rescode.html).
            Assert.Contains($"'{DbPath}' is busy: another process holds a lock on it (SQLite error 5: database is locked)", error, StringComparison.Ordinal);
            Assert.Contains("try again", error, StringComparison.Ordinal);
            Assert.DoesNotContain("not an XrfEdge outbox", error, StringComparison.Ordinal);
            Assert.EndsWith("Nothing written.", error.Trim(), StringComparison.Ordinal);
            Assert.False(File.Exists(OutPath));
            Assert.Empty(Directory.GetFiles(_folder, "*.tmp"));
        }

        // The file was healthy all along: once the lock is gone, StoreMixedAsync's five spectra come out.
        var (after, _, afterError) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);
        Assert.True(after == 0, afterError);
        Assert.Equal(5, ReadBack(OutPath).Count);
    }

    [Fact]
    public async Task Export_NewerSchemaVersion_ExitsTwoNamingBothVersions()
    {
        await StoreMixedAsync();
        Sql($"PRAGMA user_version = {SqliteOutbox.SchemaVersion + 1}");

        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", OutPath);

        Assert.Equal(2, exit);
        Assert.Contains($"schema version {SqliteOutbox.SchemaVersion + 1}, newer than the {SqliteOutbox.SchemaVersion}", error, StringComparison.Ordinal);
        Assert.False(File.Exists(OutPath));
    }

    [Fact]
    public async Task Export_OutputIsTheDatabase_RefusedAndTheDatabaseUntouched()
    {
        await StoreMixedAsync();
        var before = File.ReadAllBytes(DbPath);

        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", DbPath);
        Assert.Equal(1, exit);
        Assert.Contains("is the outbox database", error, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(DbPath));

        // Also through a symbolic link to its folder, and its WAL.
        var link = Path.Combine(_folder, "link");
        Directory.CreateSymbolicLink(link, _folder);
        Assert.Equal(1, Invoke("outbox", "export", "--db", DbPath, "-o", Path.Combine(link, "outbox.db")).ExitCode);
        Assert.Equal(1, Invoke("outbox", "export", "--db", DbPath, "-o", DbPath + "-wal").ExitCode);
        Assert.Equal(before, File.ReadAllBytes(DbPath));
        Assert.Equal(5, Stored().Count); // StoreMixedAsync's five spectra, as stored
    }

    [Fact]
    public async Task Export_OutputFolderMissing_ExitsOneAndLeavesNothing()
    {
        await StoreMixedAsync();
        var (exit, _, error) = Invoke("outbox", "export", "--db", DbPath, "-o", Path.Combine(_folder, "no-such-folder", "x.jsonl"));
        Assert.Equal(1, exit);
        Assert.Contains("cannot write", error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Export_Interrupted_Exit130LeavesTheEarlierExportAndNoTemporaryFile()
    {
        // Ctrl-C killed the process at once (no token: System.CommandLine gives none without a termination timeout), which
        // left the hidden .tmp beside the output. Since 2026-11-24 SIGINT/SIGTERM cancel the export between rows.
        await StoreMixedAsync();
        File.WriteAllText(OutPath, "earlier export\n");
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var exit = OutboxExportCommand.Run(DbPath, OutPath, incompleteOnly: false, since: null, error, cancelled.Token);

        Assert.Equal(130, exit);
        Assert.Contains($"interrupted; '{OutPath}' was not written", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("earlier export\n", File.ReadAllText(OutPath));
        Assert.Empty(Directory.GetFiles(_folder, "*.tmp", SearchOption.AllDirectories));
    }

    /// <summary>Stores <paramref name="spectrum"/> as a measurement that failed for want of a model, straight into the outbox file.</summary>
    private void StoreFailedWithoutAModel(RawSpectrum spectrum)
    {
        using var outbox = SqliteOutbox.Open(new XrfEdge.Messaging.Outbox.OutboxOptions { DatabasePath = DbPath });
        var id = spectrum.Id;
        string json = $$$"""{"schema":"xrf.measurement-event/1","measurement_id":"{{{id}}}","device":"{{{Device}}}","outcome":"failed","reason":"{{{NoModel}}}","acquired":{"start":"2026-03-01T11:00:00.000Z","end":"2026-03-01T11:00:10.000Z"}}""";
        outbox.EnqueueIncompleteMeasurement(
            new MeasurementRecord(id, SpectrumPayload.Encode(id, Device, spectrum, _clock.GetUtcNow())),
            new OutboxMessage { Kind = OutboxKind.Detection, Topic = "xrf/v1/default/XRF-TEST-1/events", Payload = System.Text.Encoding.UTF8.GetBytes(json), Qos = 1 });
    }
}
