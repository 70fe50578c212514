using System.Runtime.InteropServices;

namespace KvAspire.Node.Storage;

/// <summary>
/// fsync of a directory, which .NET has no API for: after a file is created or renamed, its directory
/// entry is durable only once the directory itself is synced.
/// </summary>
public static partial class FileSync
{
    private const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY on Linux

    public static void Directory(string path)
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fd = Open(path, ReadOnlyDirectory);
        if (fd < 0)
            throw new IOException($"cannot open directory {path} to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0)
                throw new IOException($"cannot sync directory {path} (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
