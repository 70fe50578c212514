using System.Security.Cryptography;
using System.Text;
using KvAspire.Backups;
using KvAspire.Cluster;
using KvAspire.Node.Ring;
using KvAspire.Node.Startup;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Routing;
using KvAspire.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvAspire.Tests.Unit;

/// <summary>
/// A backup's manifest and a node's <c>--restore</c>: a copy checked, then laid down as a new group's
/// starting state; every refusal leaves the data directory as it was.
/// </summary>
[Trait("Category", "Unit")]
public sealed class BackupRestoreTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ClusterTopology _topology;
    private readonly NodeInfo _node;
    private readonly string _backup;
    private readonly string _data;

    public BackupRestoreTests()
    {
        _topology = TopologyLoader.Load(TestTopology.Ring(_directory, 2, replicas: 1).Path);
        _node = _topology.Nodes.First(n => n.Position == 1);
        _data = _topology.DataDirectoryOf(_node);
        Directory.CreateDirectory(_data);
        _backup = _directory.File("backup");
        Directory.CreateDirectory(_backup);
        // Position 1 held three keys at index 3 of term 7; position 0 was never written.
        var map = new KvMap();
        for (var i = 1; i <= 3; i++)
            map.Apply(new CommittedEntry(i, 7, 1000 + i, [new KvOperation(OperationKind.Create, $"k{i}", Encoding.UTF8.GetBytes($"v{i}"))]));
        var copy = Path.Combine(_backup, BackupManifest.CopyName(1));
        SnapshotFile.Write(_backup, 9, map.Freeze());
        File.Move(Path.Combine(_backup, DataFiles.SnapshotName(9)), copy);
        Manifest(copy).Write(_backup);
    }

    public void Dispose() => _directory.Dispose();

    private BackupManifest Manifest(string copy, int positions = 2) => new(BackupManifest.CurrentFormat, DateTimeOffset.UtcNow, _topology.IdBits, positions,
        _topology.PlacementTags, ["p0r0 127.0.0.1:1", "p1r0 127.0.0.1:2"],
        [
            new BackupPosition(0, "p0r0", null, 0, null, 0, 0),
            new BackupPosition(1, "p1r0", BackupManifest.CopyName(1), new FileInfo(copy).Length,
                Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(copy))), 3, 3),
        ]);

    [Fact]
    public void A_restored_node_routes_with_the_backups_layout_and_a_backup_from_before_epochs_with_the_topologys()
    {
        var copy = Path.Combine(_backup, BackupManifest.CopyName(1));
        ulong[] moved = [ulong.MaxValue, 0xBFFF_FFFF_FFFF_FFFFUL];
        (Manifest(copy) with { Epoch = 3, PositionIds = moved }).Write(_backup);

        Restore();

        var layout = RingLayoutFile.In(_data).Load()!;
        Assert.Equal(3, layout.Epoch);
        Assert.Equal(moved, layout.PositionIds);
        Assert.Equal(["p0r0", "p1r0"], layout.Members.Select(m => m.Name));

        using var other = new TempDirectory();
        (Manifest(copy) with { Format = 1 }).Write(_backup);
        BackupRestore.Apply(_backup, _topology, _node, other.Path, true, NullLogger.Instance);
        var first = RingLayoutFile.In(other.Path).Load()!;
        Assert.Equal(1, first.Epoch);
        Assert.Equal(RingMath.Even(64, 2), first.PositionIds);
    }

    [Fact]
    public void A_backup_whose_ring_ids_are_not_a_ring_is_refused_saying_why()
    {
        var copy = Path.Combine(_backup, BackupManifest.CopyName(1));
        (Manifest(copy) with { PositionIds = [5UL, 5UL] }).Write(_backup);

        Assert.Contains("names ring ids that are not a ring", Assert.Throws<InvalidDataException>(() => Restore()).Message);
        Assert.False(Directory.EnumerateFileSystemEntries(_data).Any());
    }

    private void Restore(bool founding = true) =>
        BackupRestore.Apply(_backup, _topology, _node, _data, founding, NullLogger.Instance);

    [Fact]
    public void A_copy_is_laid_down_as_the_first_snapshot_with_no_term_and_no_write_of_the_new_cluster()
    {
        Restore();

        var recovered = Recovery.Run(_data, 1024 * 1024, NullLogger.Instance);
        Assert.Equal(3, recovered.Map.Count);
        Assert.Equal("v2", Encoding.UTF8.GetString(recovered.Map.Read("k2").Value.Span));
        Assert.Equal((3L, 0L), (recovered.SnapshotIndex, recovered.SnapshotTerm));
        // No log follows the snapshot yet: what it holds is committed, up to its index.
        Assert.Equal(3, recovered.CommitIndex);
        Assert.Equal(0, recovered.LastTimestampUnixMs);
        recovered.Log.Dispose();
    }

    [Fact]
    public void A_restart_with_the_same_backup_after_the_node_went_on_does_not_restore_again()
    {
        Restore();
        File.WriteAllText(Path.Combine(_data, DataFiles.LogName(0)), "");
        var snapshot = File.ReadAllBytes(Path.Combine(_data, DataFiles.SnapshotName(0)));

        Restore();

        Assert.Equal(snapshot, File.ReadAllBytes(Path.Combine(_data, DataFiles.SnapshotName(0))));
    }

    [Fact]
    public void A_data_directory_holding_other_data_is_refused_and_left_as_it_was()
    {
        File.WriteAllText(Path.Combine(_data, DataFiles.LogName(0)), "other data");

        var refused = Assert.Throws<InvalidDataException>(() => Restore());

        Assert.Contains("holds data already", refused.Message);
        Assert.Equal("other data", File.ReadAllText(Path.Combine(_data, DataFiles.LogName(0))));
        Assert.False(File.Exists(Path.Combine(_data, BackupRestore.MarkerName)));
    }

    [Fact]
    public void A_replacement_in_a_group_that_holds_writes_does_not_restore()
    {
        Restore(founding: false);

        Assert.Empty(Directory.EnumerateFileSystemEntries(_data));
    }

    [Fact]
    public void A_backup_of_another_ring_is_refused()
    {
        (Manifest(Path.Combine(_backup, BackupManifest.CopyName(1)), positions: 3) with
        {
            Copies = [.. Manifest(Path.Combine(_backup, BackupManifest.CopyName(1))).Copies, new BackupPosition(2, "p2r0", null, 0, null, 0, 0)],
        }).Write(_backup);

        var refused = Assert.Throws<InvalidDataException>(() => Restore());

        Assert.Contains("a ring of 3 positions", refused.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_data));
    }

    [Fact]
    public void A_damaged_copy_is_refused_naming_it()
    {
        var copy = Path.Combine(_backup, BackupManifest.CopyName(1));
        var bytes = File.ReadAllBytes(copy);
        bytes[^5] ^= 0xFF;
        File.WriteAllBytes(copy, bytes);

        var refused = Assert.Throws<InvalidDataException>(() => Restore());

        Assert.Contains($"{copy} is damaged", refused.Message);
        Assert.False(File.Exists(Path.Combine(_data, DataFiles.SnapshotName(0))));
    }

    [Fact]
    public void A_directory_without_a_manifest_is_no_backup()
    {
        File.Delete(Path.Combine(_backup, BackupManifest.FileName));

        var refused = Assert.Throws<InvalidDataException>(() => Restore());

        Assert.Contains("is not a backup", refused.Message);
    }
}
