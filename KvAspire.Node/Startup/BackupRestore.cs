using KvAspire.Backups;
using KvAspire.Cluster;
using KvAspire.Node.Ring;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using KvAspire.Routing;

namespace KvAspire.Node.Startup;

/// <summary>
/// <c>--restore &lt;backup&gt;</c>: a node of a new cluster starts from its position's copy in a backup
/// (<see cref="BackupManifest"/>, written by the console's <c>backup</c>). Only a founding member of a new
/// group restores, and only on a data directory that holds no data yet: a replica whose disk was lost in a
/// running cluster (its peers hold writes) joins as a replacement and gets the data from its leader, and a
/// node restored before starts from what it holds now. The copy is checked (size, SHA-256, then each
/// record's checksum as it is read) and written as the directory's first snapshot, through the same index,
/// with the revision, sessions and leases it had, as the new group's starting state: Raft term 0 (the new
/// group's terms start above it, as a log's terms must only grow) and no write of this cluster yet (no
/// commit time: so its replicas, started one at a time, still find each other founding members). The
/// node routes with the backup's layout (its epoch and ring ids, with this topology's nodes).
/// </summary>
public static class BackupRestore
{
    /// <summary>Names the backup a directory was restored from: a restart with the same option is not a second restore.</summary>
    public const string MarkerName = "restored-from";

    /// <exception cref="InvalidDataException">The backup cannot be used for this node, or the directory holds other data; the message says why.</exception>
    public static void Apply(string backupDirectory, ClusterTopology topology, NodeInfo node, string dataDirectory, bool foundingMember, ILogger logger)
    {
        var backup = Path.GetFullPath(backupDirectory);
        var marker = Path.Combine(dataDirectory, MarkerName);
        var files = DataFiles.List(dataDirectory);
        if (files.Logs.Count > 0 || files.Snapshots.Count > 0)
        {
            if (File.Exists(marker) && File.ReadAllText(marker).Trim() == backup)
            {
                NodeLog.RestoreSkipped(logger, backup, "this data directory was restored from it before and has gone on since");
                return;
            }
            throw new InvalidDataException(
                $"--restore {backup}: {dataDirectory} holds data already; a restore starts a new cluster on empty data directories");
        }
        if (!foundingMember)
        {
            NodeLog.RestoreSkipped(logger, backup, $"the other replicas of position {node.Position} hold writes already: this node joins them as a replacement");
            return;
        }

        var manifest = BackupManifest.Read(backup);
        if (manifest.Positions != topology.Positions || manifest.IdBits != topology.IdBits || manifest.PlacementTags != topology.PlacementTags)
        {
            throw new InvalidDataException(
                $"--restore {backup}: the backup is of a ring of {manifest.Positions} positions, {manifest.IdBits} id bits, placement tags " +
                $"{(manifest.PlacementTags ? "on" : "off")}; {topology.SourcePath} has {topology.Positions}, {topology.IdBits}, " +
                $"{(topology.PlacementTags ? "on" : "off")}: keys would be looked for on other positions than the ones holding them");
        }
        KeyPlacementRecord.Check(dataDirectory, topology.PlacementTags);
        // The new cluster routes with the backup's layout: each key is looked for where its copy holds it.
        var layout = RingLayout.Of(topology);
        RingLayoutFile.In(dataDirectory).Save(layout with
        {
            Epoch = Math.Max(manifest.Epoch, RingLayout.FirstEpoch), PositionIds = manifest.PositionIds ?? layout.PositionIds,
        });
        // The marker first: a crash before the snapshot is durable leaves no data, and the next start restores again.
        using (var file = new FileStream(marker, FileMode.Create, FileAccess.Write))
        {
            file.Write(System.Text.Encoding.UTF8.GetBytes(backup + "\n"));
            file.Flush(flushToDisk: true);
        }
        FileSync.Directory(dataDirectory);
        if (manifest.VerifiedCopy(backup, node.Position) is { } copy)
        {
            MapSnapshot snapshot;
            try
            {
                snapshot = SnapshotFile.Load(copy).Snapshot;
            }
            catch (SnapshotCorruptException e)
            {
                throw new InvalidDataException($"--restore {backup}: {copy} is damaged: {e.Message}", e);
            }
            SnapshotFile.Write(dataDirectory, 0, snapshot with { LastTerm = 0, LastTimestampUnixMs = 0 });
            NodeLog.Restored(logger, backup, node.Position, snapshot.LastIndex, snapshot.Values.Count, snapshot.Revision, DataFiles.SnapshotName(0));
        }
        else
        {
            NodeLog.RestoreSkipped(logger, backup, $"position {node.Position} held nothing when it was taken");
        }
    }
}
