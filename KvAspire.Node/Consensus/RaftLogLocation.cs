using System.Diagnostics;
using System.Globalization;
using KvAspire.Node.Storage;

namespace KvAspire.Node.Consensus;

/// <summary>
/// Where DotNext's log lives. <c>log.X</c> is the durable copy of the Raft log, so DotNext's own is kept in
/// memory: a directory on tmpfs (<c>/dev/shm</c>), new at every start and filled from <c>log.X</c>, whose
/// syncs touch no disk. Only its term-and-vote file must outlive the process: it is a link to
/// <c>raft/state</c> in the data directory, which DotNext writes through (<c>O_SYNC</c>) at every term or
/// vote change, so a vote survives a power cut. Where there is no <c>/dev/shm</c> the directory is a
/// temporary one on disk: as safe, and slower.
/// </summary>
public static class RaftLogLocation
{
    private const string Prefix = "kvaspire-raft-";

    public static string Prepare(string dataDirectory)
    {
        var raft = Path.Combine(dataDirectory, "raft");
        var state = Path.GetFullPath(Path.Combine(raft, "state"));
        if (!File.Exists(state))
        {
            FileSync.CreateDirectory(raft);
            using (var file = new FileStream(state, FileMode.CreateNew, FileAccess.Write))
                file.Flush(flushToDisk: true);
            FileSync.Directory(raft);
        }

        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        RemoveThoseOfStoppedNodes(root);
        var memory = Path.Combine(root, Prefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(memory))
            Directory.Delete(memory, recursive: true);
        Directory.CreateDirectory(memory);
        File.CreateSymbolicLink(Path.Combine(memory, "state"), state);
        return memory;
    }

    /// <summary>A node killed leaves its log in memory: the next node to start on this machine removes it.</summary>
    private static void RemoveThoseOfStoppedNodes(string root)
    {
        foreach (var directory in Directory.EnumerateDirectories(root, Prefix + "*"))
        {
            if (!int.TryParse(Path.GetFileName(directory)[Prefix.Length..], CultureInfo.InvariantCulture, out var pid) || IsRunning(pid))
                continue;
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another node starting at the same moment removed it, or it is not ours to remove.
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
