using System.Diagnostics;
using KvAspire.Node.Telemetry;
using Microsoft.Extensions.Logging;

namespace KvAspire.Node.Storage;

/// <summary>What a node holds once its files are read: the map, the open log, and where the order stands.</summary>
public sealed record RecoveredState(KvMap Map, OperationLog Log, long LastIndex, long LastTimestampUnixMs);

/// <summary>
/// Rebuilds the map from the node's data directory before the node serves: replays <c>log.0</c> in order,
/// cuts off a torn tail (reporting it), and refuses to start on corruption before the tail.
/// </summary>
public static class Recovery
{
    public static RecoveredState Run(string dataDirectory, ILogger logger)
    {
        var started = Stopwatch.GetTimestamp();
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, OperationLog.FileName(0));

        var map = new KvMap();
        long lastTimestamp = 0;
        var scan = File.Exists(path)
            ? LogReader.Scan(path, entry =>
            {
                map.Apply(entry);
                lastTimestamp = Math.Max(lastTimestamp, entry.TimestampUnixMs);
            })
            : new LogScan(0, 0, null);

        if (scan.TornTail is { } torn)
            NodeLog.TornTailCut(logger, path, torn, scan.ValidLength);

        var log = OperationLog.Open(path, scan.ValidLength);
        NodeLog.Recovered(logger, path, scan.Records, map.Count, map.AppliedIndex, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return new RecoveredState(map, log, map.AppliedIndex, lastTimestamp);
    }
}
