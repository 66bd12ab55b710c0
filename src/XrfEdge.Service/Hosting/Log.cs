using Microsoft.Extensions.Logging;

namespace XrfEdge.Service;

/// <summary>The service's log messages (source-generated). Event ids 8000–8099.</summary>
internal static partial class Log
{
    [LoggerMessage(8000, LogLevel.Information, "Starting: profile {Profile}, mode {Mode}, source {Source}")]
    public static partial void Starting(ILogger logger, string profile, string mode, string source);

    [LoggerMessage(8001, LogLevel.Information, "Ready after {ElapsedMilliseconds:F0} ms: model {Model} {Version} ({Precision}), outbox {Outbox}")]
    public static partial void Ready(ILogger logger, double elapsedMilliseconds, string model, string version, string precision, string outbox);

    [LoggerMessage(8002, LogLevel.Information, "Stopping: aborting the running measurement; the X-ray warning goes off when it has ended")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(8003, LogLevel.Information, "Stopped: {Pending} results still queued in the outbox for the next start")]
    public static partial void Stopped(ILogger logger, long pending);

    [LoggerMessage(8010, LogLevel.Information, "Trigger pressed")]
    public static partial void TriggerPressed(ILogger logger);

    [LoggerMessage(8011, LogLevel.Warning, "Interlock {State}")]
    public static partial void InterlockChanged(ILogger logger, string state);

    /// <summary>
    /// A GPIO input could not be read. <paramref name="failure"/> says what failed: reading its value (that read only;
    /// the next one tries again) or reading its edge events (its watching thread has ended); <paramref name="consequence"/>
    /// what follows for the instrument. Until 2026-11-24 one text, "GPIO input gpio-interlock failed and is no longer
    /// watched", served both, although after a failed value read the interlock may still be watched.
    /// </summary>
    [LoggerMessage(8012, LogLevel.Error, "GPIO input {Input} (line {Line} on {Chip}): {Failure}: {Message}; {Consequence}")]
    public static partial void GpioFailed(ILogger logger, string input, int line, string chip, string failure, string message, string consequence);

    [LoggerMessage(8020, LogLevel.Information, "Measurement {MeasurementId} started ({Origin}, preset {PresetSeconds} s)")]
    public static partial void MeasurementStarted(ILogger logger, string measurementId, string origin, double presetSeconds);

    [LoggerMessage(8021, LogLevel.Warning, "Measurement refused: {Reason}")]
    public static partial void MeasurementRefused(ILogger logger, string reason);

    [LoggerMessage(8022, LogLevel.Warning, "Measurement {MeasurementId} aborted: {Reason}")]
    public static partial void MeasurementAborted(ILogger logger, string measurementId, string reason);

    [LoggerMessage(8023, LogLevel.Error, "Measurement {MeasurementId} failed: {Reason}")]
    public static partial void MeasurementFailed(ILogger logger, string measurementId, string reason);

    [LoggerMessage(8024, LogLevel.Information, "Detections {MeasurementId}: {Elements}")]
    public static partial void Detections(ILogger logger, string measurementId, string elements);

    [LoggerMessage(8025, LogLevel.Information, "Spectrum source exhausted ({Source}); waiting for the service to be stopped")]
    public static partial void SourceExhausted(ILogger logger, string source);

    [LoggerMessage(8026, LogLevel.Error, "Analysis of {Count} spectra failed: {Reason}")]
    public static partial void AnalysisFailed(ILogger logger, int count, string reason);

    [LoggerMessage(8027, LogLevel.Warning, "Energy coverage {Status}, start {StartStatus}: {Warning} (logged once per coverage seen, not per spectrum)")]
    public static partial void CoverageShort(ILogger logger, string status, string startStatus, string warning);

    [LoggerMessage(8028, LogLevel.Warning, "Auto-start cancelled ({Reason}) while waiting for {Source}: no run starts by itself when it answers")]
    public static partial void AutoStartCancelled(ILogger logger, string reason, string source);

    [LoggerMessage(8030, LogLevel.Information, "Scan {ScanId} started: {Points} points, dwell {DwellSeconds} s")]
    public static partial void ScanStarted(ILogger logger, string scanId, long points, double dwellSeconds);

    [LoggerMessage(8031, LogLevel.Information, "Scan {ScanId} ended: {Points} points in {Seconds:F2} s ({Rate:F0} spectra/s){Aborted}")]
    public static partial void ScanEnded(ILogger logger, string scanId, long points, double seconds, double rate, string aborted);

    [LoggerMessage(8040, LogLevel.Warning, "Watchdog not fed: {Problem}")]
    public static partial void WatchdogWithheld(ILogger logger, string problem);

    [LoggerMessage(8042, LogLevel.Debug, "systemd STATUS= not sent: {Reason}")]
    public static partial void StatusNotSent(ILogger logger, string reason);

    [LoggerMessage(8041, LogLevel.Critical, "Pipeline worker {Worker} crashed")]
    public static partial void WorkerCrashed(ILogger logger, Exception exception, string worker);

    [LoggerMessage(8050, LogLevel.Information, "Command {Command} received")]
    public static partial void CommandReceived(ILogger logger, string command);

    [LoggerMessage(8051, LogLevel.Warning, "Command {Command} rejected: {Reason}")]
    public static partial void CommandRejected(ILogger logger, string command, string reason);

    [LoggerMessage(8070, LogLevel.Warning, "SPI MCA on {Device} lost: {Reason}; reopening")]
    public static partial void SpiLinkLost(ILogger logger, string device, string reason);

    [LoggerMessage(8071, LogLevel.Information, "SPI MCA on {Device} reopened after {Attempts} attempt(s)")]
    public static partial void SpiReconnected(ILogger logger, string device, int attempts);

    [LoggerMessage(8005, LogLevel.Error, "{Reason}")]
    public static partial void SourceNotConnected(ILogger logger, string reason);

    [LoggerMessage(8006, LogLevel.Information, "{Source} answered after start-up: {Outcome}")]
    public static partial void SourceConnectedLate(ILogger logger, string source, string outcome);

    [LoggerMessage(8004, LogLevel.Information, "Start-up memory trimmed: RSS {BeforeMegabytes:F1} MB -> {AfterMegabytes:F1} MB ({Mappings} library mappings paged out)")]
    public static partial void MemoryTrimmed(ILogger logger, double beforeMegabytes, double afterMegabytes, int mappings);

    [LoggerMessage(8060, LogLevel.Error, "Storing {What} failed, retrying: {Reason}")]
    public static partial void StoreFailed(ILogger logger, string what, string reason);

    [LoggerMessage(8061, LogLevel.Warning, "Stored {What} after {Attempts} attempts")]
    public static partial void StoreRecovered(ILogger logger, string what, int attempts);

    [LoggerMessage(8062, LogLevel.Critical, "LOST: {What} was never stored ({Attempts} attempts; the service is stopping): {Reason}")]
    public static partial void StoreGivenUp(ILogger logger, string what, int attempts, string reason);

    [LoggerMessage(8072, LogLevel.Critical, "LOST: {What} was never stored: the store failed with {ErrorType} ({Reason}), an error of this item that retrying cannot fix; the service goes on with the next result")]
    public static partial void StoreFailedForItem(ILogger logger, Exception exception, string what, string errorType, string reason);

    [LoggerMessage(8073, LogLevel.Critical, "No model loaded: {Problem}. The instrument keeps measuring and storing every spectrum without analysis (results say \"analysis failed: no model loaded\"); the model loads as soon as its files change")]
    public static partial void ModelRefused(ILogger logger, string problem);

    [LoggerMessage(8074, LogLevel.Warning, "Model {Model} {Version} ({Precision}) loaded after it had been refused; analysis resumes with the next measurement")]
    public static partial void ModelLoadedLate(ILogger logger, string model, string version, string precision);

    [LoggerMessage(8076, LogLevel.Information, "Re-analysed {MeasurementId}, measured {Started:o} while no model was loaded: {Elements}")]
    public static partial void Reanalysed(ILogger logger, string measurementId, DateTimeOffset started, string elements);

    [LoggerMessage(8077, LogLevel.Information, "Re-analysis of measurements stored without a model: {Done} analysed and stored, {Skipped} skipped")]
    public static partial void ReanalysisDone(ILogger logger, int done, int skipped);

    [LoggerMessage(8081, LogLevel.Information, "Re-analysed {Points} point(s) of scan {ScanId} (index {Indexes}), measured while no model was loaded or ONNX Runtime failed; published again in scans/points")]
    public static partial void ScanPointsReanalysed(ILogger logger, int points, string scanId, string indexes);

    [LoggerMessage(8080, LogLevel.Debug, "Re-analysis: no stored measurement is waiting for a model")]
    public static partial void ReanalysisNothing(ILogger logger);

    [LoggerMessage(8078, LogLevel.Warning, "Re-analysis of measurements stored without a model stopped after {Done}: {Reason}. The rest stay stored: analysed at the next model load or service start, or, when the outbox refused them, once delivered rows make room")]
    public static partial void ReanalysisStopped(ILogger logger, int done, string reason);

    [LoggerMessage(8079, LogLevel.Warning, "Stored measurement {MeasurementId} cannot be re-analysed: {Reason}; it stays stored as it is (xrfedge outbox export)")]
    public static partial void ReanalysisSkipped(ILogger logger, string measurementId, string reason);

    [LoggerMessage(8075, LogLevel.Warning, "Ready after {ElapsedMilliseconds:F0} ms WITHOUT a model (analysis off until {ModelPath} loads), outbox {Outbox}")]
    public static partial void ReadyWithoutModel(ILogger logger, double elapsedMilliseconds, string modelPath, string outbox);

    [LoggerMessage(8063, LogLevel.Critical, "LOST: {Points} point(s) of scan {ScanId} were never stored (service stopping): {Reason}")]
    public static partial void ScanPointsLost(ILogger logger, int points, string scanId, string reason);

    [LoggerMessage(8069, LogLevel.Critical, "Outbox '{Path}' is damaged ({Reason}): stopping the service with exit code 1 so that systemd restarts it; the start-up moves the file aside and salvages its readable rows. Results not stored until then are logged LOST by id (8062, 8063)")]
    public static partial void OutboxDamaged(ILogger logger, string path, string reason);

    [LoggerMessage(8064, LogLevel.Error, "GPIO output {Output} failed: {Reason}")]
    public static partial void GpioOutputFailed(ILogger logger, string output, string reason);

    [LoggerMessage(8065, LogLevel.Error, "Measurement {MeasurementId} failed with an unexpected error")]
    public static partial void MeasurementFailedUnexpectedly(ILogger logger, Exception exception, string measurementId);

    [LoggerMessage(8066, LogLevel.Warning, "Gpio:Chip is 'fake': trigger and interlock are simulated in memory and the interlock reads closed. Only for the simulator; never on an instrument with an X-ray source")]
    public static partial void FakeGpioChip(ILogger logger);

    [LoggerMessage(8067, LogLevel.Warning, "No interlock input (Gpio:Enabled false or Gpio:InterlockLine unset) on an MCA source: this service cannot refuse or abort an exposure on an open enclosure; the instrument's own hardware interlock must")]
    public static partial void NoInterlockInput(ILogger logger);

    [LoggerMessage(8068, LogLevel.Warning, "Mqtt:Password is set but Mqtt:CaFile is not: the password goes to broker {Host}:{Port} in clear text over plain TCP, readable by anyone on the network path. Set Mqtt:CaFile to use TLS")]
    public static partial void MqttPasswordWithoutTls(ILogger logger, string host, int port);

    [LoggerMessage(8090, LogLevel.Warning, "Replay: skipped {Error}")]
    public static partial void ReplayLineSkipped(ILogger logger, string error);

    [LoggerMessage(8091, LogLevel.Warning, "Replay file {Path}: {Skipped} unreadable lines skipped ({Named}), {Loaded} spectra loaded")]
    public static partial void ReplayLinesSkipped(ILogger logger, string path, int skipped, string named, int loaded);
}
