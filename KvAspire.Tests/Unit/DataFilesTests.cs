using KvAspire.Node.Storage;

namespace KvAspire.Tests.Unit;

/// <summary>The naming and retention of snap.X and log.X (the last 3 of each), simulated over many snapshots and restarts.</summary>
[Trait("Category", "Unit")]
public sealed class DataFilesTests
{
    [Fact]
    public void Parses_logs_snapshots_and_unfinished_snapshots_ignoring_other_files()
    {
        var files = DataFiles.Parse(["log.0", "log.10", "log.9", "snap.9", "snap.11.tmp", "snap.x", "log.", "log.-1", "notes.txt", "snap.10"]);

        Assert.Equal([0L, 9, 10], files.Logs);
        Assert.Equal([9L, 10], files.Snapshots);
        Assert.Equal(["snap.11.tmp"], files.Temporary);
        Assert.Equal(11, files.HighestNumber);
    }

    [Fact]
    public void An_empty_directory_has_no_highest_number()
    {
        Assert.Equal(-1, DataFiles.Parse([]).HighestNumber);
    }

    [Theory]
    [InlineData(1, "log.0 log.1 snap.1")]
    [InlineData(2, "log.0 log.1 log.2 snap.1 snap.2")]
    [InlineData(3, "log.1 log.2 log.3 snap.1 snap.2 snap.3")]
    [InlineData(10, "log.8 log.9 log.10 snap.8 snap.9 snap.10")]
    [InlineData(250, "log.248 log.249 log.250 snap.248 snap.249 snap.250")]
    public void After_snapshot_x_only_the_last_3_logs_and_snapshots_stay(int snapshots, string expected)
    {
        var directory = new SortedSet<string>(StringComparer.Ordinal) { "log.0" };
        for (var x = 1; x <= snapshots; x++)
            TakeSnapshot(directory, x);

        Assert.Equal(expected.Split(' ').Order(StringComparer.Ordinal), directory);
    }

    [Fact]
    public void Numbers_continue_across_restarts_and_never_repeat()
    {
        var directory = new SortedSet<string>(StringComparer.Ordinal) { "log.0" };
        var used = new HashSet<long>();
        for (var restart = 0; restart < 20; restart++)
        {
            // What a restarted node does: the next snapshot number is above everything on disk.
            var next = DataFiles.Parse(directory).HighestNumber + 1;
            for (var i = 0; i < restart % 4; i++)
            {
                Assert.True(used.Add(next), $"snapshot {next} was numbered twice");
                TakeSnapshot(directory, next++);
            }
            // A crash after log.X was started but before snap.X was written leaves its number used up.
            if (restart % 3 == 0)
            {
                Assert.True(used.Add(next));
                directory.Add(DataFiles.LogName(next));
                directory.Add(DataFiles.SnapshotName(next) + DataFiles.TemporarySuffix);
            }
        }

        var files = DataFiles.Parse(directory);
        Assert.True(files.Logs.Count <= 4, string.Join(' ', directory));
        Assert.True(files.Snapshots.Count <= 3, string.Join(' ', directory));
    }

    private static void TakeSnapshot(SortedSet<string> directory, long x)
    {
        directory.Add(DataFiles.LogName(x));
        directory.Add(DataFiles.SnapshotName(x));
        foreach (var expired in DataFiles.Expired(DataFiles.Parse(directory), x).ToList())
            directory.Remove(expired);
    }
}
