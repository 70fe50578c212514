using System.Globalization;

namespace KvAspire.Node.Storage;

/// <summary>The numbered files of a data directory, as found on disk.</summary>
/// <param name="Logs">Numbers of the <c>log.X</c> files, ascending.</param>
/// <param name="Snapshots">Numbers of the <c>snap.X</c> files, ascending.</param>
/// <param name="Temporary">Names of unfinished snapshot files (<c>snap.X.tmp</c>), left by a crash.</param>
/// <param name="HighestNumber">The highest X of any of them, or -1: the next snapshot number is above it.</param>
public sealed record DataFileSet(IReadOnlyList<long> Logs, IReadOnlyList<long> Snapshots, IReadOnlyList<string> Temporary, long HighestNumber);

/// <summary>
/// Naming and retention of a node's state-machine files. Operations before snapshot X are in
/// <c>log.(X−1)</c> (the first log is <c>log.0</c>); from the moment snapshot X starts, new operations go
/// to <c>log.X</c>. Once snapshot X is complete only the last 3 logs and 3 snapshots stay: X−2, X−1, X.
/// Numbers are never reused, across restarts too.
/// </summary>
public static class DataFiles
{
    public const int Kept = 3;
    public const string TemporarySuffix = ".tmp";
    private const string LogPrefix = "log.";
    private const string SnapshotPrefix = "snap.";

    public static string LogName(long number) => LogPrefix + number.ToString(CultureInfo.InvariantCulture);

    public static string SnapshotName(long number) => SnapshotPrefix + number.ToString(CultureInfo.InvariantCulture);

    public static DataFileSet List(string directory) =>
        Parse(Directory.EnumerateFiles(directory).Select(Path.GetFileName).OfType<string>());

    public static DataFileSet Parse(IEnumerable<string> fileNames)
    {
        var logs = new List<long>();
        var snapshots = new List<long>();
        var temporary = new List<string>();
        var highest = -1L;
        foreach (var name in fileNames)
        {
            if (name.EndsWith(TemporarySuffix, StringComparison.Ordinal) &&
                TryNumber(name[..^TemporarySuffix.Length], SnapshotPrefix, out var unfinished))
            {
                temporary.Add(name);
                highest = Math.Max(highest, unfinished);
            }
            else if (TryNumber(name, LogPrefix, out var log))
            {
                logs.Add(log);
                highest = Math.Max(highest, log);
            }
            else if (TryNumber(name, SnapshotPrefix, out var snapshot))
            {
                snapshots.Add(snapshot);
                highest = Math.Max(highest, snapshot);
            }
        }
        logs.Sort();
        snapshots.Sort();
        return new DataFileSet(logs, snapshots, temporary, highest);
    }

    /// <summary>The files that retention removes once snapshot <paramref name="completed"/> is durable.</summary>
    public static IEnumerable<string> Expired(DataFileSet files, long completed) =>
        files.Logs.Where(n => n <= completed - Kept).Select(LogName)
            .Concat(files.Snapshots.Where(n => n <= completed - Kept).Select(SnapshotName));

    private static bool TryNumber(string name, string prefix, out long number)
    {
        number = -1;
        return name.StartsWith(prefix, StringComparison.Ordinal)
               && name.Length > prefix.Length
               && name[prefix.Length..].All(char.IsAsciiDigit)
               && long.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }
}
