using System.Diagnostics;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// Writes a frozen view of the map to <c>snap.X</c> in the background, then applies retention: only the
/// last 3 logs and 3 snapshots stay. Writes and reads go on meanwhile.
/// </summary>
public sealed class Snapshotter(RecoveredState recovered, LogWorker log, NodeTelemetry telemetry, ILogger<Snapshotter> logger)
{
    /// <summary>Called by F3 at the marker, in order: F2 is told where log.X starts before any later entry is applied.</summary>
    public Task WriteAsync(SnapshotMarker marker, MapSnapshot view)
    {
        var rotated = log.RotateAsync(marker.Number, view.LastIndex);
        return Task.Run(() => WriteAsync(marker, view, rotated));
    }

    private async Task WriteAsync(SnapshotMarker marker, MapSnapshot view, Task rotated)
    {
        var name = DataFiles.SnapshotName(marker.Number);
        try
        {
            // snap.X may appear only once log.X exists, so that recovery from snap.X finds the entries after it.
            await rotated;
            var started = Stopwatch.GetTimestamp();
            var size = SnapshotFile.Write(recovered.DataDirectory, marker.Number, view);
            var removed = DataFiles.Expired(DataFiles.List(recovered.DataDirectory), marker.Number).ToList();
            foreach (var expired in removed)
                File.Delete(Path.Combine(recovered.DataDirectory, expired));
            var elapsed = Stopwatch.GetElapsedTime(started);
            telemetry.RecordSnapshot(elapsed, size);
            NodeLog.SnapshotWritten(logger, name, view.Values.Count, view.LastIndex, size, elapsed.TotalMilliseconds,
                removed.Count == 0 ? "nothing" : string.Join(", ", removed));
            marker.MarkWritten(view.LastIndex, view.LastTerm);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            NodeLog.SnapshotFailed(logger, name, e);
            marker.Fail(e);
        }
    }
}
