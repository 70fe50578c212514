using System.Diagnostics;
using System.Runtime.InteropServices;

namespace KvAspire.Tests.Support;

/// <summary>
/// A directory whose processes can lose power: nodes started with <see cref="Environment"/> load
/// <c>PowerCut/powercut.c</c> (built here with gcc), which keeps aside what each sync made durable: a file's
/// bytes as of its last fsync or fdatasync (or of each write to a file opened <c>O_SYNC</c>), a directory's
/// entries as of its last fsync. <see cref="Cut"/>, once the processes are killed, puts back exactly that:
/// every byte not yet synced is gone, and so is every file created, renamed or removed since its
/// directory's last sync (a removed one comes back). Linux only.
/// </summary>
public sealed partial class PowerCutDisk : IDisposable
{
    private static readonly Lazy<string> Library = new(Build);
    private readonly TempDirectory _shadow = new();

    public PowerCutDisk(string root)
    {
        Root = root;
        Directory.CreateDirectory(root);
        Begin();
    }

    public string Root { get; }

    /// <summary>Why the layer cannot run here, or null.</summary>
    public static string? WhyUnavailable =>
        !OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != Architecture.X64 ? "needs Linux on x64"
        : !System.Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, "gcc"))) ? "needs gcc (apt-get install gcc)"
        : null;

    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["LD_PRELOAD"] = Library.Value,
        ["POWERCUT_ROOT"] = Root,
        ["POWERCUT_SHADOW"] = _shadow.Path,
    };

    /// <summary>The power fails: the directory becomes what its syncs made durable. Its processes must be dead.</summary>
    public void Cut()
    {
        var rebuilt = Root + ".powercut";
        if (Directory.Exists(rebuilt))
            Directory.Delete(rebuilt, recursive: true);
        Rebuild("", rebuilt);
        Directory.Delete(Root, recursive: true);
        Directory.Move(rebuilt, Root);
        Begin();
    }

    /// <summary>The directory as it is now counts as durable (the start, and after each cut).</summary>
    private void Begin()
    {
        foreach (var file in Directory.GetFiles(_shadow.Path))
            File.Delete(file);
        Remember("");
    }

    private void Remember(string relative)
    {
        var directory = Path.Join(Root, relative);
        var lines = new List<string>();
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is { } target)
                lines.Add($"l {entry.Name} {target}");
            else if (entry is DirectoryInfo)
            {
                lines.Add($"d {entry.Name}");
                Remember(relative + "/" + entry.Name);
            }
            else
            {
                var key = $"i{InodeOf(entry.FullName)}";
                File.Copy(entry.FullName, Path.Combine(_shadow.Path, "f-" + key), overwrite: true);
                lines.Add($"f {entry.Name} {key}");
            }
        }
        File.WriteAllLines(ListingOf(relative), lines);
    }

    private void Rebuild(string relative, string into)
    {
        Directory.CreateDirectory(into);
        var listing = ListingOf(relative);
        if (!File.Exists(listing))
            return; // created and never synced: empty, if its parent's sync kept it at all
        foreach (var line in File.ReadAllLines(listing))
        {
            var parts = line.Split(' ', 3);
            var path = Path.Combine(into, parts[1]);
            switch (parts[0])
            {
                case "d":
                    Rebuild(relative + "/" + parts[1], path);
                    break;
                case "l":
                    File.CreateSymbolicLink(path, parts[2]);
                    break;
                default:
                    var kept = Path.Combine(_shadow.Path, "f-" + parts[2]);
                    if (File.Exists(kept))
                        File.Copy(kept, path);
                    else
                        File.WriteAllBytes(path, []); // its name was synced, never its bytes
                    break;
            }
        }
    }

    private string ListingOf(string relative) => Path.Combine(_shadow.Path, "d-" + relative.Replace('/', '|'));

    private static ulong InodeOf(string path)
    {
        var stat = new byte[256];
        if (Stat(path, stat) != 0)
            throw new IOException($"cannot stat {path} (errno {Marshal.GetLastPInvokeError()})");
        return BitConverter.ToUInt64(stat, 8); // x86-64 struct stat: st_dev, then st_ino
    }

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, byte[] buffer);

    private static string Build()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "PowerCut", "powercut.c");
        var library = Path.Combine(Path.GetTempPath(), $"kvaspire-powercut-{System.Environment.ProcessId}.so");
        using var gcc = Process.Start(new ProcessStartInfo("gcc", ["-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", library, source, "-ldl", "-lpthread"])
        {
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("gcc did not start");
        var errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        if (gcc.ExitCode != 0)
            throw new InvalidOperationException($"building {source} failed (gcc needed: apt-get install gcc):\n{errors}");
        return library;
    }

    public void Dispose() => _shadow.Dispose();
}
