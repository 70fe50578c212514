using System.Diagnostics;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Storage;

/// <summary>
/// What a node holds once its files are read: the map (every committed entry the files hold applied), the
/// changes of the entries replayed after the snapshot (for watchers), the open log, and the Raft log after the snapshot, to hand back to Raft before it starts.
/// </summary>
/// <param name="Entries">The Raft log after the snapshot, in index order: committed or not, as this replica last had it.</param>
/// <param name="CommitIndex">The highest index known committed (a snapshot's, or a commit record's); the map holds up to it.</param>
/// <param name="SnapshotNumber">The X of the loaded <c>snap.X</c>, or -1 without one.</param>
/// <param name="SnapshotIndex">The last index the loaded snapshot holds, or 0 without one.</param>
/// <param name="SnapshotTerm">The Raft term of that last index, or 0 without one.</param>
/// <param name="NextSnapshotNumber">The X of the next <c>snap.X</c>: above every number ever used here.</param>
public sealed record RecoveredState(
    string DataDirectory,
    KvMap Map,
    EventHistory Events,
    OperationLog Log,
    IReadOnlyList<RaftEntry> Entries,
    long CommitIndex,
    long LastTimestampUnixMs,
    long SnapshotNumber,
    long SnapshotIndex,
    long SnapshotTerm,
    long NextSnapshotNumber,
    TimeSpan Duration)
{
    /// <summary>The last index of the Raft log this replica holds.</summary>
    public long LastIndex => Entries.Count > 0 ? Entries[^1].Index : SnapshotIndex;
}

/// <summary>
/// Rebuilds the map and the Raft log from the node's data directory before the node serves: the newest
/// valid <c>snap.X</c> (falling back to an older one if it is damaged), then the entries of <c>log.X</c>
/// and every later log in order, each record for an index replacing the one before it and every entry
/// after it (as Raft cut the log). The entries up to the highest commit record are applied to the map; all
/// of them go back to Raft, which commits the rest again or replaces them. A torn tail of the newest log is
/// cut off and reported; anything else damaged or missing stops the start with a clear error rather than
/// serving wrong data.
/// </summary>
public static class Recovery
{
    public static RecoveredState Run(string dataDirectory, long eventHistoryBytes, ILogger logger)
    {
        var started = Stopwatch.GetTimestamp();
        FileSync.CreateDirectory(dataDirectory);
        RefuseEarlierRelease(dataDirectory);
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

        var raftLog = new RaftLogReplay(dataDirectory, snapshotIndex);
        LogScan? lastScan = null;
        foreach (var number in logs)
        {
            if (lastScan?.TornTail is { } earlierTear)
                throw new LogCorruptException($"{DataFiles.LogName(number - 1)} has a torn tail ({earlierTear}) but newer logs follow it");
            lastScan = raftLog.Read(number, logger);
        }
        // What the snapshot holds is committed, also when no log follows it (as after a restore).
        var commitIndex = Math.Min(Math.Max(raftLog.CommitIndex, snapshotIndex), raftLog.LastIndex);
        var events = new EventHistory(eventHistoryBytes);
        events.Reset(map);
        foreach (var entry in raftLog.Entries)
        {
            if (entry.Index <= commitIndex && LogRecordFormat.DecodePayload(entry.Body.Span) is { } writes)
            {
                map.Apply(writes with { Index = entry.Index, Term = entry.Term, TimestampUnixMs = Math.Max(map.LastTimestampUnixMs, writes.TimestampUnixMs) });
                events.Append(map);
            }
        }

        var activeNumber = logs.Count > 0 ? logs[^1] : firstLog;
        if (lastScan?.TornTail is { } torn)
            NodeLog.TornTailCut(logger, DataFiles.LogName(activeNumber), torn, lastScan.ValidLength);
        var log = OperationLog.Open(dataDirectory, activeNumber, lastScan?.ValidLength ?? 0);

        var duration = Stopwatch.GetElapsedTime(started);
        NodeLog.Recovered(logger, dataDirectory, map.Count, commitIndex, raftLog.LastIndex, DataFiles.LogName(activeNumber), duration.TotalMilliseconds);
        return new RecoveredState(dataDirectory, map, events, log, raftLog.Entries, commitIndex, map.LastTimestampUnixMs,
            snapshotNumber, snapshotIndex, snapshotTerm,
            Math.Max(files.HighestNumber, activeNumber) + 1, duration);
    }

    /// <summary>Files only an earlier release writes: its Raft log in <c>raft/</c>, or a log of format 1 or 2.</summary>
    private static void RefuseEarlierRelease(string directory)
    {
        if (Directory.Exists(Path.Combine(directory, "raft", "metadata")) || File.Exists(Path.Combine(directory, "raft", "checkpoint")))
            throw new EarlierReleaseException(directory);
        Span<byte> header = stackalloc byte[LogRecordFormat.FileHeaderSize];
        foreach (var number in DataFiles.List(directory).Logs)
        {
            using var file = File.OpenRead(Path.Combine(directory, DataFiles.LogName(number)));
            if (file.Read(header) == header.Length && LogRecordFormat.VersionOf(header) is 1 or 2)
                throw new EarlierReleaseException(directory);
        }
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

    /// <summary>The Raft log after the snapshot, rebuilt from the logs read in order.</summary>
    private sealed class RaftLogReplay(string directory, long snapshotIndex)
    {
        private readonly List<RaftEntry> _entries = [];
        private string _reading = "";

        public IReadOnlyList<RaftEntry> Entries => _entries;

        public long LastIndex => _entries.Count > 0 ? _entries[^1].Index : snapshotIndex;

        /// <summary>The highest commit record read (0 when none).</summary>
        public long CommitIndex { get; private set; }

        public LogScan Read(long number, ILogger logger)
        {
            var started = Stopwatch.GetTimestamp();
            _reading = DataFiles.LogName(number);
            var scan = LogReader.Scan(Path.Combine(directory, _reading), Add, committed => CommitIndex = Math.Max(CommitIndex, committed));
            NodeLog.LogReplayed(logger, _reading, scan.Records, LastIndex, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return scan;
        }

        private void Add(RaftEntry entry)
        {
            if (entry.Index <= snapshotIndex)
                return; // in the snapshot already
            // A record for an index Raft wrote again replaces that entry and every one after it.
            while (_entries.Count > 0 && _entries[^1].Index >= entry.Index)
                _entries.RemoveAt(_entries.Count - 1);
            if (entry.Index != LastIndex + 1)
                throw new LogCorruptException($"{directory}: {_reading} holds entry {entry.Index} after entry {LastIndex}: the entries between are missing");
            _entries.Add(entry);
        }
    }
}
