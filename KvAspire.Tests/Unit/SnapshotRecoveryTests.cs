using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>Recovery from snap.X plus the logs after it, fallbacks and refusals.</summary>
[Trait("Category", "Unit")]
public sealed class SnapshotRecoveryTests : IDisposable
{
    private readonly NodeDataDirectory _directory = new();
    private readonly KvMap _live = new();
    private long _index;

    public void Dispose() => _directory.Dispose();

    private string PathOf(string name) => _directory.File(name);

    /// <summary>Writes <paramref name="count"/> creates to log.<paramref name="log"/> and applies them to the live map.</summary>
    private void Write(long log, int count)
    {
        var entries = Enumerable.Range(0, count).Select(_ =>
        {
            ++_index;
            return new CommittedEntry(_index, 0, 1000 + _index, [new KvOperation(OperationKind.Create, $"k{_index}", Encoding.UTF8.GetBytes($"v{_index}"))]);
        }).ToList();
        var path = PathOf(DataFiles.LogName(log));
        using var file = OperationLog.Open(_directory.Path, log, File.Exists(path) ? new FileInfo(path).Length : 0);
        file.AppendCommitted(entries);
        foreach (var entry in entries)
            _live.Apply(entry);
    }

    private void Snapshot(long number)
    {
        SnapshotFile.Write(_directory.Path, number, _live.Freeze());
        _live.Thaw();
    }

    private RecoveredState Recover() => _directory.Recover();

    private void AssertHoldsEverythingWritten(RecoveredState state)
    {
        Assert.Equal(_index, state.LastIndex);
        Assert.Equal(_index, state.Map.Count);
        for (var i = 1; i <= _index; i++)
            Assert.Equal($"v{i}", Encoding.UTF8.GetString(state.Map.Read($"k{i}").Value.Span));
    }

    /// <summary>log.0, snap.1, log.1, snap.2, log.2 (the live log), as a node leaves them.</summary>
    private void TwoSnapshots()
    {
        Write(0, 5);
        Snapshot(1);
        Write(1, 5);
        Snapshot(2);
        Write(2, 5);
    }

    [Fact]
    public void Loads_the_newest_snapshot_and_replays_the_logs_after_it()
    {
        TwoSnapshots();

        var state = Recover();

        AssertHoldsEverythingWritten(state);
        Assert.Equal(10, state.SnapshotIndex);
        Assert.Equal(2, state.Log.Number);
        Assert.Equal(3, state.NextSnapshotNumber);
    }

    [Fact]
    public void A_corrupt_newest_snapshot_falls_back_to_the_previous_one_and_its_logs()
    {
        TwoSnapshots();
        var bytes = File.ReadAllBytes(PathOf("snap.2"));
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(PathOf("snap.2"), bytes);

        var state = Recover();

        AssertHoldsEverythingWritten(state);
        Assert.Equal(5, state.SnapshotIndex);
        Assert.Equal(3, state.NextSnapshotNumber);
    }

    [Fact]
    public void A_truncated_newest_snapshot_falls_back_too()
    {
        TwoSnapshots();
        using (var file = File.OpenWrite(PathOf("snap.2")))
            file.SetLength(file.Length / 3);

        AssertHoldsEverythingWritten(Recover());
    }

    [Fact]
    public void A_garbage_byte_after_the_newest_log_is_cut_off()
    {
        TwoSnapshots();
        var length = new FileInfo(PathOf("log.2")).Length;
        File.AppendAllText(PathOf("log.2"), "!");

        var state = Recover();

        AssertHoldsEverythingWritten(state);
        Assert.Equal(length, new FileInfo(PathOf("log.2")).Length);
    }

    [Fact]
    public void An_unfinished_snapshot_is_removed_and_its_number_not_reused()
    {
        TwoSnapshots();
        File.WriteAllText(PathOf("snap.3.tmp"), "half a snapshot");
        File.WriteAllBytes(PathOf("log.3"), []);

        var state = Recover();

        AssertHoldsEverythingWritten(state);
        Assert.False(File.Exists(PathOf("snap.3.tmp")));
        Assert.Equal(3, state.Log.Number);
        Assert.Equal(4, state.NextSnapshotNumber);
    }

    [Fact]
    public void A_snapshot_without_its_log_starts_that_log()
    {
        Write(0, 5);
        Snapshot(1);

        var state = Recover();

        AssertHoldsEverythingWritten(state);
        Assert.Equal(1, state.Log.Number);
        Assert.True(File.Exists(PathOf("log.1")));
    }

    [Fact]
    public void Entries_already_in_the_snapshot_are_skipped_on_replay()
    {
        Write(0, 5);
        Snapshot(1);
        // A crash between log.0 and log.1 can leave entries of the snapshot in an older log: replay of
        // log.0 from snap.1 onwards would apply nothing twice. Recovery replays from log.1 only.
        Write(1, 3);
        var state = Recover();
        var again = Recover();

        AssertHoldsEverythingWritten(state);
        Assert.Equal((state.LastIndex, state.Map.Count), (again.LastIndex, again.Map.Count));
    }

    [Fact]
    public void A_torn_tail_before_newer_logs_stops_recovery()
    {
        TwoSnapshots();
        File.Delete(PathOf("snap.2"));
        File.AppendAllText(PathOf("log.1"), "!");

        var error = Assert.Throws<LogCorruptException>(Recover);

        Assert.Contains("log.1 has a torn tail", error.Message);
    }

    [Fact]
    public void A_missing_log_between_others_stops_recovery()
    {
        TwoSnapshots();
        Write(3, 2);
        File.Delete(PathOf("log.2"));

        var error = Assert.Throws<LogCorruptException>(Recover);

        Assert.Contains("log.2 is missing", error.Message);
    }

    [Fact]
    public void No_usable_snapshot_and_no_log_0_stops_recovery()
    {
        TwoSnapshots();
        File.Delete(PathOf("log.0"));
        File.WriteAllText(PathOf("snap.1"), "broken");
        File.WriteAllText(PathOf("snap.2"), "broken");

        var error = Assert.Throws<LogCorruptException>(Recover);

        Assert.Contains("no usable snapshot and log.0 is gone", error.Message);
    }

    [Fact]
    public void Raft_entries_of_its_own_come_back_to_raft_and_leave_the_map_alone()
    {
        Write(0, 3);
        using (var file = OperationLog.Open(_directory.Path, 0, new FileInfo(PathOf(DataFiles.LogName(0))).Length))
            file.Append([new RaftEntry(++_index, 2, ReadOnlyMemory<byte>.Empty), new RaftEntry(++_index, 3, ReadOnlyMemory<byte>.Empty)], _index);
        Write(0, 1);

        var state = Recover();

        Assert.Equal((6L, 6L), (state.LastIndex, state.CommitIndex));
        Assert.Equal(4, state.Map.Count);
        Assert.Equal([(4L, 2L, 0), (5L, 3L, 0)], state.Entries.Where(e => e.Index is 4 or 5).Select(e => (e.Index, e.Term, e.Body.Length)));
    }

    [Fact]
    public void An_entry_missing_from_the_middle_of_the_log_stops_recovery()
    {
        Write(0, 3);
        _index += 2;
        Write(0, 1);

        var error = Assert.Throws<LogCorruptException>(Recover);

        Assert.Contains("holds entry 6 after entry 3", error.Message);
    }
}
