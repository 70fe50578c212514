namespace KvAspire.Node.Storage;

/// <summary>
/// Writes and loads <c>snap.X</c>. A snapshot is written to <c>snap.X.tmp</c>, fsynced, renamed, and the
/// directory fsynced, so a crash leaves either no <c>snap.X</c> or a whole one.
/// </summary>
public static class SnapshotFile
{
    private const long BytesPerSync = 8 * 1024 * 1024;

    /// <summary>Writes snapshot <paramref name="number"/> durably; returns its size in bytes.</summary>
    public static long Write(string directory, long number, MapSnapshot snapshot)
    {
        var path = Path.Combine(directory, DataFiles.SnapshotName(number));
        var temporary = path + DataFiles.TemporarySuffix;
        long size;
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            var paced = new PacedSyncStream(file, BytesPerSync);
            SnapshotFormat.Write(paced, number, snapshot);
            paced.Flush();
            size = file.Length;
        }
        File.Move(temporary, path, overwrite: true);
        FileSync.Directory(directory);
        return size;
    }

    public static (long Number, MapSnapshot Snapshot) Load(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        return SnapshotFormat.Read(file, file.Length);
    }
}
