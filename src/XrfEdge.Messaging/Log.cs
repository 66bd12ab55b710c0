using Microsoft.Extensions.Logging;
using XrfEdge.Messaging.Transport;

namespace XrfEdge.Messaging;

/// <summary>Source-generated log messages of XrfEdge.Messaging; event ids 7000–7099.</summary>
internal static partial class Log
{
    [LoggerMessage(7000, LogLevel.Information, "MQTT {ClientId}: {Description}")]
    public static partial void MqttConnected(ILogger logger, string clientId, string description);

    [LoggerMessage(7001, LogLevel.Warning, "MQTT {ClientId} disconnected (code {Code}): {Description}; retrying with back-off")]
    public static partial void MqttDisconnected(ILogger logger, string clientId, int code, string description);

    [LoggerMessage(7002, LogLevel.Information, "MQTT {ClientId} is {State}: {Description}")]
    public static partial void MqttStateChanged(ILogger logger, string clientId, MqttConnectionState state, string description);

    [LoggerMessage(7003, LogLevel.Trace, "libmosquitto [{Level}]: {Text}")]
    public static partial void MosquittoLibraryLog(ILogger logger, int level, string text);

    [LoggerMessage(7004, LogLevel.Warning, "MQTT broker frozen: no PUBACK for {Seconds:F1} s while publishes wait on a live link; forcing a reconnect")]
    public static partial void BrokerFrozen(ILogger logger, double seconds);

    [LoggerMessage(7005, LogLevel.Warning, "MQTT network thread restarted after {Seconds:F0} s without a connection (libmosquitto ends its thread on fatal errors); last cause: {Cause}")]
    public static partial void NetworkThreadRestarted(ILogger logger, double seconds, string cause);

    [LoggerMessage(7010, LogLevel.Warning, "MQTT {ClientId}: the broker refused the subscription to '{Filter}' (SUBACK 0x{Code:X2}: {Reason}); nothing published there reaches this client (remote commands, when it is the command filter): check the broker's ACL for this client")]
    public static partial void SubscriptionRefused(ILogger logger, string clientId, string filter, int code, string reason);

    [LoggerMessage(7009, LogLevel.Warning, "MQTT {ClientId}: the broker refused the connection again (CONNACK {Code}): {Description}; retrying with back-off")]
    public static partial void ConnectionRefusedAgain(ILogger logger, string clientId, int code, string description);

    [LoggerMessage(7008, LogLevel.Warning, "MQTT network thread ended on a library error ({Cause}); restarting it in {Seconds:F1} s")]
    public static partial void NetworkThreadEnded(ILogger logger, string cause, double seconds);

    [LoggerMessage(7071, LogLevel.Error, "MQTT {ClientId}: a stop left to run in the background (its caller stopped waiting) failed")]
    public static partial void BackgroundStopFailed(ILogger logger, string clientId, Exception exception);

    [LoggerMessage(7073, LogLevel.Warning, "MQTT {ClientId}: the network thread lives on {Seconds:F1} s after the DISCONNECT (a reconnect of its own was under way, or its reconnect delay); sending the DISCONNECT again until it ends")]
    public static partial void NetworkThreadOutlivedDisconnect(ILogger logger, string clientId, double seconds);

    [LoggerMessage(7072, LogLevel.Warning, "MQTT {ClientId}: the DISCONNECT was not written within {Seconds:F1} s (send buffer full: broker frozen or link dead); {Action}")]
    public static partial void DisconnectNotWritten(ILogger logger, string clientId, double seconds, string action);

    [LoggerMessage(7006, LogLevel.Error, "MQTT supervisor tick failed")]
    public static partial void SupervisorFailed(ILogger logger, Exception exception);

    [LoggerMessage(7007, LogLevel.Error, "MQTT state-change handler threw")]
    public static partial void StateHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(7020, LogLevel.Critical, "Outbox '{Path}' failed its integrity check ({Reason}); moved to '{MovedTo}' and started empty")]
    public static partial void OutboxCorruptionRecovered(ILogger logger, string path, string movedTo, string reason);

    [LoggerMessage(7025, LogLevel.Critical, "Outbox '{Path}' exists but holds no outbox (0 bytes or no schema): its rows are lost; started empty, seq continues above the Unix time in ms")]
    public static partial void OutboxFoundEmpty(ILogger logger, string path);

    [LoggerMessage(7026, LogLevel.Critical, "Outbox '{Path}': salvaged {Salvaged} queued rows from the damaged file, which held {Total}; the difference is lost")]
    public static partial void OutboxRowsSalvaged(ILogger logger, string path, long salvaged, string total);

    [LoggerMessage(7028, LogLevel.Critical, "Outbox '{Path}' became damaged while open (SQLite error {Code}: {Reason}): nothing more can be stored in or sent from it until it is reopened; the next open (a restart) moves it aside and salvages its readable rows")]
    public static partial void OutboxDamagedWhileOpen(ILogger logger, string path, int code, string reason);

    [LoggerMessage(7027, LogLevel.Warning, "Outbox dropped {Count} dead letters (moved over {Days:F1} days ago, or the oldest beyond the {MaxBytes}-byte cap)")]
    public static partial void DeadLettersDropped(ILogger logger, int count, double days, long maxBytes);

    [LoggerMessage(7021, LogLevel.Warning, "Outbox evicted {Count} rows to stay under {MaxBytes} bytes (oldest, lowest priority first)")]
    public static partial void OutboxRowsEvicted(ILogger logger, int count, long maxBytes);

    [LoggerMessage(7049, LogLevel.Critical, "Outbox '{Path}': salvaged {Salvaged} stored measurement(s) or scan point(s) awaiting re-analysis (with their spectra) from the damaged file{Problem}")]
    public static partial void UnanalysedResultsSalvaged(ILogger logger, string path, long salvaged, string problem);

    [LoggerMessage(7048, LogLevel.Warning, "Stored results past their bounds ({Rows} rows, {MaxBytes} bytes: Outbox:ResultRetention, Outbox:ResultRetentionMegabytes) pruned {Count} measurement(s) or scan point(s) whose analysis had failed and that a model would still analyse: their spectra are gone, they stay published as failed")]
    public static partial void UnanalysedResultsPruned(ILogger logger, int count, int rows, long maxBytes);

    [LoggerMessage(7022, LogLevel.Warning, "Outbox evicted {Count} rows older than {Days:F1} days or past their expiry")]
    public static partial void OutboxRowsExpired(ILogger logger, int count, double days);

    [LoggerMessage(7023, LogLevel.Critical, "Outbox '{Path}' is full: new result REFUSED, stored rows kept. {Reason}")]
    public static partial void OutboxDiskFull(ILogger logger, string path, string reason);

    [LoggerMessage(7024, LogLevel.Error, "Outbox byte cap reached ({Bytes} of {MaxBytes}) under RejectNew: new result REFUSED")]
    public static partial void OutboxCapReached(ILogger logger, long bytes, long maxBytes);

    [LoggerMessage(7029, LogLevel.Warning, "Broker answered outbox row {RowId} on '{Topic}' with reason 0x{Reason:X2} ({Description}), a limit of the broker, not a fault of the row: not counted towards dead-lettering; all outbox sending pauses for a back-off (1 s, doubling up to 30 s while it lasts; reminders: event 7045), then rows so answered go first")]
    public static partial void PassingRefusal(ILogger logger, long rowId, string topic, int reason, string description);

    [LoggerMessage(7045, LogLevel.Warning, "Broker still answers outbox rows with a limit of its own (last reason 0x{Reason:X2}): {Answers} such answers since {Since:O}; {HeldBack} rows held back, next attempt in {Seconds:F0} s")]
    public static partial void PassingRefusalStill(ILogger logger, int reason, int answers, DateTimeOffset since, int heldBack, double seconds);

    [LoggerMessage(7046, LogLevel.Information, "Broker accepts outbox rows again, after {Answers} answers naming a limit of its own over {Seconds:F0} s")]
    public static partial void PassingRefusalEnded(ILogger logger, int answers, double seconds);

    [LoggerMessage(7030, LogLevel.Warning, "Broker refused outbox row {RowId} on '{Topic}' with reason 0x{Reason:X2} ({Description}); dead-lettered: {DeadLettered}")]
    public static partial void PublishRefused(ILogger logger, long rowId, string topic, int reason, string description, bool deadLettered);

    [LoggerMessage(7031, LogLevel.Error, "Outbox publisher loop failed; retrying")]
    public static partial void PublisherLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(7032, LogLevel.Information, "Outbox backlog drained: {Count} rows sent since connect")]
    public static partial void BacklogDrained(ILogger logger, long count);

    [LoggerMessage(7033, LogLevel.Error, "Broker refused outbox row {RowId} on '{Topic}' with reason 0x{Reason:X2}, and the outbox could not record it; the row stays queued (attempt not counted) and is sent again after a back-off (1 s, doubling up to 30 s while the storage stays broken; reminders: event 7035)")]
    public static partial void RefusalNotRecorded(ILogger logger, long rowId, string topic, int reason, Exception exception);

    [LoggerMessage(7039, LogLevel.Warning, "Outbox row {RowId} on '{Topic}' could not be handed to the MQTT library (the publish threw, not a lost connection); counted as a refused attempt (reason 0x80), retried after the rows behind it; dead-lettered: {DeadLettered}")]
    public static partial void PublishThrew(ILogger logger, long rowId, string topic, bool deadLettered, Exception exception);

    [LoggerMessage(7035, LogLevel.Warning, "Outbox still cannot record broker refusals: {Failures} failed attempts since {Since:O} ({Reason}); {HeldBack} refused rows held back, next attempt in {Seconds:F0} s")]
    public static partial void RefusalStillNotRecorded(ILogger logger, int failures, DateTimeOffset since, int heldBack, double seconds, string reason);

    [LoggerMessage(7036, LogLevel.Information, "Outbox records broker refusals again, after {Failures} failed attempts over {Seconds:F0} s")]
    public static partial void RefusalRecordingRecovered(ILogger logger, int failures, double seconds);

    [LoggerMessage(7034, LogLevel.Error, "Processing {Count} broker acknowledgements failed; their rows stay queued (acknowledged ones wait for their delete, the others are sent again); retried after a back-off (1 s, doubling up to 30 s while it keeps failing; reminders: event 7037)")]
    public static partial void AckBatchFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(7037, LogLevel.Warning, "Outbox still cannot delete acknowledged rows: {Failures} failed attempts since {Since:O} ({Reason}); {Waiting} acknowledged rows stay stored and are not sent again, next attempt in {Seconds:F0} s")]
    public static partial void AckStorageStillFailing(ILogger logger, int failures, DateTimeOffset since, int waiting, double seconds, string reason);

    [LoggerMessage(7038, LogLevel.Information, "Outbox deletes acknowledged rows again, after {Failures} failed attempts over {Seconds:F0} s")]
    public static partial void AckStorageRecovered(ILogger logger, int failures, double seconds);

    [LoggerMessage(7040, LogLevel.Warning, "Command on '{Topic}' rejected: {Reason}")]
    public static partial void CommandRejected(ILogger logger, string topic, string reason);

    [LoggerMessage(7041, LogLevel.Information, "Command {Name} {CommandId} {Outcome}")]
    public static partial void CommandHandled(ILogger logger, string name, string commandId, string outcome);

    [LoggerMessage(7042, LogLevel.Debug, "Command {CommandId} ignored: {Reason}")]
    public static partial void CommandIgnored(ILogger logger, string commandId, string reason);

    [LoggerMessage(7047, LogLevel.Warning, "Stop command {CommandId} executed although its ts lies {AgeSeconds:F0} s in the past (negative: in the future), outside the {MaxAgeSeconds:F0} s / {SkewSeconds:F0} s command window: a stop is never refused for its age; either a clock is wrong (check this instrument's and the sender's) or the stop was delivered late")]
    public static partial void StaleStopExecuted(ILogger logger, string commandId, double ageSeconds, double maxAgeSeconds, double skewSeconds);

    [LoggerMessage(7043, LogLevel.Error, "Command handler for {Name} threw")]
    public static partial void CommandHandlerFailed(ILogger logger, string name, Exception exception);

    [LoggerMessage(7044, LogLevel.Warning, "Command on '{Topic}' dropped without a reply: {Pending} commands are still being handled (limit {Limit}); {Dropped} dropped since start")]
    public static partial void CommandDropped(ILogger logger, string topic, int pending, int limit, long dropped);

    [LoggerMessage(7050, LogLevel.Warning, "Publishing '{Topic}' failed")]
    public static partial void AuxiliaryPublishFailed(ILogger logger, string topic, Exception exception);

    [LoggerMessage(7054, LogLevel.Warning, "Publishing '{Topic}' refused: reason 0x{Reason:X2} ({Description})")]
    public static partial void AuxiliaryPublishRefused(ILogger logger, string topic, int reason, string description);

    [LoggerMessage(7055, LogLevel.Information, "Home Assistant config of an earlier version retained on '{Topic}' (object ids changed on 2026-11-24 for fleet ids containing '_'); removing it with an empty retained message")]
    public static partial void LegacyDiscoveryFound(ILogger logger, string topic);

    [LoggerMessage(7056, LogLevel.Error, "MQTT client id '{ClientId}' was taken over by another connection ({Description}): is a second instrument configured with the same device id (Mqtt:DeviceId)? The two take the session from each other on every reconnect, and their availability, status and results mix on one topic tree")]
    public static partial void MqttSessionTakenOver(ILogger logger, string clientId, string description);

    [LoggerMessage(7057, LogLevel.Warning, "Sparkplug node '{Node}': the outbox could not keep bdSeq; using one more than this process's last, so a restart may repeat a bdSeq")]
    public static partial void SparkplugBdSeqNotStored(ILogger logger, string node, Exception exception);

    [LoggerMessage(7059, LogLevel.Error, "A ReanalysisRoomMade handler of outbox '{Path}' threw; the rows' removal stands and the other handlers ran")]
    public static partial void ReanalysisRoomMadeHandlerFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(7058, LogLevel.Warning, "Outbox '{Path}' recovered from corruption: its persistent counts of lost rows (evicted_total, pruned_unanalysed_total) and its run clock (run_ms) could not be read from the damaged file ({Problem}); they restart at 0 (the run clock at the newest salvaged row's)")]
    public static partial void OutboxCountersNotSalvaged(ILogger logger, string path, string problem);

    [LoggerMessage(7074, LogLevel.Warning, "Outbox '{Path}': the run clock could not be saved at close ({Problem}); the run time since it was last saved is not counted towards Outbox:MaxAgeDays, so queued rows are kept that much longer")]
    public static partial void RunClockNotSaved(ILogger logger, string path, string problem);

    [LoggerMessage(7060, LogLevel.Warning, "Outbox '{Path}': the index of the rows awaiting re-analysis could not be built at open ({Problem}); health counts them by reading the stored results until the next open builds it")]
    public static partial void AwaitingReanalysisIndexNotBuilt(ILogger logger, string path, string problem);

    [LoggerMessage(7051, LogLevel.Error, "Health period failed; trying again in {Seconds:F1} s")]
    public static partial void HealthPeriodFailed(ILogger logger, double seconds, Exception exception);

    [LoggerMessage(7052, LogLevel.Warning, "Outbox purge of aged rows failed; health is published anyway and the purge retried next period")]
    public static partial void OutboxPurgeFailed(ILogger logger, Exception exception);

    [LoggerMessage(7053, LogLevel.Error, "Command on '{Topic}' failed unexpectedly; routing goes on")]
    public static partial void CommandFailed(ILogger logger, string topic, Exception exception);

    [LoggerMessage(7061, LogLevel.Warning, "Retained latest detection (seq {Seq}) on '{Topic}' refused: reason 0x{Reason:X2} ({Description}); the outbox rows are delivered as before, and the copy is tried again at the next delivered detection or reconnect")]
    public static partial void LatestDetectionRefused(ILogger logger, long seq, string topic, int reason, string description);

    [LoggerMessage(7062, LogLevel.Warning, "Retained latest detection (seq {Seq}) on '{Topic}' not published; the outbox rows are delivered as before, and the copy is tried again at the next delivered detection or reconnect")]
    public static partial void LatestDetectionFailed(ILogger logger, long seq, string topic, Exception exception);

    [LoggerMessage(7063, LogLevel.Error, "The delivery handler failed for outbox row {Id} on '{Topic}'; the row stays delivered and the acknowledgement loop goes on")]
    public static partial void DeliveredHandlerFailed(ILogger logger, long id, string topic, Exception exception);

    [LoggerMessage(7064, LogLevel.Debug, "Home Assistant is online again: discovery config on '{Topic}' is re-sent in {Seconds:F1} s (random delay up to Publishing's HomeAssistantBirthDelayMax, so a fleet does not answer one birth at the same instant)")]
    public static partial void DiscoveryDelayed(ILogger logger, string topic, double seconds);

    [LoggerMessage(7069, LogLevel.Warning, "'{Topic}' holds no detection of this instrument ({Problem}); taken as empty, so the next delivered detection replaces it")]
    public static partial void LatestDetectionForeign(ILogger logger, string topic, string problem);

    [LoggerMessage(7070, LogLevel.Information, "The retained copy on '{Topic}' was removed (an empty retained message); the next delivered detection is retained there")]
    public static partial void LatestDetectionCleared(ILogger logger, string topic);
}
