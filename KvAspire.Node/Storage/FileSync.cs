using System.Runtime.InteropServices;

namespace KvAspire.Node.Storage;

/// <summary>
/// fsync of a directory, which .NET has no API for: after a file is created or renamed, its directory
/// entry is durable only once the directory itself is synced.
/// </summary>
public static class FileSync
{
    /// <summary>Creates <paramref name="path"/> and any missing parent, each entry synced in its parent.</summary>
    public static void CreateDirectory(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (System.IO.Directory.Exists(full))
            return;
        var parent = System.IO.Path.GetDirectoryName(full)!;
        CreateDirectory(parent);
        System.IO.Directory.CreateDirectory(full);
        Directory(parent);
    }

    /// <summary>
    /// Replaces <paramref name="path"/> whole with <paramref name="text"/> and a newline, durably: a
    /// temporary file written and synced, renamed over the old, the directory synced. A crash leaves the old
    /// file or the new one, never a mix.
    /// </summary>
    public static void ReplaceText(string path, string text)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        CreateDirectory(directory);
        var temporary = path + DataFiles.TemporarySuffix;
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(text + "\n"));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
        Directory(directory);
    }

    private const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY on Linux

    public static unsafe void Directory(string path)
    {
        if (!OperatingSystem.IsLinux())
            return;
        int fd;
        fixed (byte* name = System.Text.Encoding.UTF8.GetBytes(path + "\0"))
            fd = Libc.Open(name, ReadOnlyDirectory);
        if (fd < 0)
            throw new IOException($"cannot open directory {path} to sync it (errno {Marshal.GetLastSystemError()})");
        try
        {
            if (Libc.Fsync(fd) != 0)
                throw new IOException($"cannot sync directory {path} (errno {Marshal.GetLastSystemError()})");
        }
        finally
        {
            _ = Libc.Close(fd);
        }
    }

    /// <summary>
    /// The C library's functions as the process resolves them (the global scope, as a C program calls them),
    /// so a library preloaded to observe file operations sees these too.
    /// </summary>
    private static unsafe class Libc
    {
        public static readonly delegate* unmanaged<byte*, int, int> Open = (delegate* unmanaged<byte*, int, int>)Export("open");
        public static readonly delegate* unmanaged<int, int> Fsync = (delegate* unmanaged<int, int>)Export("fsync");
        public static readonly delegate* unmanaged<int, int> Close = (delegate* unmanaged<int, int>)Export("close");

        private static nint Export(string name) => NativeLibrary.GetExport(NativeLibrary.GetMainProgramHandle(), name);
    }
}
