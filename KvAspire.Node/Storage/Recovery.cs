using System.Diagnostics;
using KvAspire.Node.Telemetry;
using Microsoft.Extensions.Logging;

namespace KvAspire.Node.Storage;

/// <summary>What a node holds once its files are read: the map, the open log, and where the order stands.</summary>
/// <param name="SnapshotNumber">The X of the loaded <c>snap.X</c>, or -1 without one.</param>
/// <param name="SnapshotIndex">The last index the loaded snapshot holds, or 0 without one.</param>
/// <param name="SnapshotTerm">The Raft term of that last index, or 0 without one.</param>
/// <param name="NextSnapshotNumber">The X of the next <c>snap.X</c>: above every number ever used here.</param>
public sealed record RecoveredState(
    string DataDirectory,
    KvMap Map,
    OperationLog Log,
    long LastIndex,
    long LastTimestampUnixMs,
    long SnapshotNumber,
    long SnapshotIndex,
    long SnapshotTerm,
    long NextSnapshotNumber,
    TimeSpan Duration);

/// <summary>
/// Rebuilds the map from the node's data directory before the node serves: the newest valid
/// <c>snap.X</c> (falling back to an older one if it is damaged), then <c>log.X</c> and every later log in
/// order. A torn tail of the newest log is cut off and reported; anything else damaged or missing stops
/// the start with a clear error rather than serving wrong data.
/// </summary>
public static class Recovery
{
    public static RecoveredState Run(string dataDirectory, ILogger logger)
    {
        var started = Stopwatch.GetTimestamp();
        Directory.CreateDirectory(dataDirectory);
        var files = DataFiles.List(dataDirectory);
        foreach (var unfinished in files.Temporary)
        {
            NodeLog.UnfinishedSnapshotRemoved(logger, unfinished);
            File.Delete(Path.Combine(dataDirectory, unfinished));
        }

        var (map, snapshotNumber) = LoadNewestSnapshot(dataDirectory, files, logger);
        var (snapshotIndex, snapshotTerm) = (map.AppliedIndex, map.AppliedTerm);
        var firstLog = Math.Max(snapshotNumber, 0);
        var logs = files.Logs.Where(n => n >= firstLog).ToList();
        CheckLogsAreWhole(dataDirectory, files, snapshotNumber, firstLog, logs);

        LogScan? lastScan = null;
        foreach (var number in logs)
        {
            if (lastScan?.TornTail is { } earlierTear)
                throw new LogCorruptException($"{DataFiles.LogName(number - 1)} has a torn tail ({earlierTear}) but newer logs follow it");
            lastScan = Replay(dataDirectory, number, map, logger);
        }

        var activeNumber = logs.Count > 0 ? logs[^1] : firstLog;
        if (lastScan?.TornTail is { } torn)
            NodeLog.TornTailCut(logger, DataFiles.LogName(activeNumber), torn, lastScan.ValidLength);
        var log = OperationLog.Open(dataDirectory, activeNumber, lastScan?.ValidLength ?? 0);

        var duration = Stopwatch.GetElapsedTime(started);
        NodeLog.Recovered(logger, dataDirectory, map.Count, map.AppliedIndex, DataFiles.LogName(activeNumber), duration.TotalMilliseconds);
        return new RecoveredState(dataDirectory, map, log, map.AppliedIndex, map.LastTimestampUnixMs,
            snapshotNumber, snapshotIndex, snapshotTerm,
            Math.Max(files.HighestNumber, activeNumber) + 1, duration);
    }

    private static (KvMap Map, long Number) LoadNewestSnapshot(string directory, DataFileSet files, ILogger logger)
    {
        foreach (var number in files.Snapshots.Reverse())
        {
            var started = Stopwatch.GetTimestamp();
            var name = DataFiles.SnapshotName(number);
            try
            {
                var (_, snapshot) = SnapshotFile.Load(Path.Combine(directory, name));
                var map = KvMap.Restore(snapshot);
                NodeLog.SnapshotLoaded(logger, name, map.Count, map.AppliedIndex, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return (map, number);
            }
            catch (SnapshotCorruptException e)
            {
                NodeLog.SnapshotUnusable(logger, name, e.Message);
            }
        }
        return (new KvMap(), -1);
    }

    private static void CheckLogsAreWhole(string directory, DataFileSet files, long snapshotNumber, long firstLog, List<long> logs)
    {
        if (snapshotNumber < 0 && files.Logs.Count > 0 && files.Logs[0] != 0)
            throw new LogCorruptException(
                $"{directory}: no usable snapshot and {DataFiles.LogName(0)} is gone, so the writes before {DataFiles.LogName(files.Logs[0])} cannot be recovered");
        if (logs.Count > 0 && logs[0] != firstLog)
            throw new LogCorruptException($"{directory}: {DataFiles.LogName(firstLog)} is missing, and {DataFiles.LogName(logs[0])} follows it");
        for (var i = 1; i < logs.Count; i++)
        {
            if (logs[i] != logs[i - 1] + 1)
                throw new LogCorruptException($"{directory}: {DataFiles.LogName(logs[i - 1] + 1)} is missing between {DataFiles.LogName(logs[i - 1])} and {DataFiles.LogName(logs[i])}");
        }
    }

    private static LogScan Replay(string directory, long number, KvMap map, ILogger logger)
    {
        var started = Stopwatch.GetTimestamp();
        var name = DataFiles.LogName(number);
        // Indexes may skip: Raft's own entries (elections' no-ops, membership) never reach the log.
        var scan = LogReader.Scan(Path.Combine(directory, name), entry => map.Apply(entry));
        NodeLog.LogReplayed(logger, name, scan.Records, map.AppliedIndex, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return scan;
    }
}
