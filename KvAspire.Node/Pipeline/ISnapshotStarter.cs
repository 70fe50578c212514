namespace KvAspire.Node.Pipeline;

/// <summary>
/// Places snapshot marker X in the order of committed entries, which the layer above the pipeline owns
/// (Raft's state machine): the pipeline asks for snapshots through this without depending on it.
/// </summary>
public interface ISnapshotStarter
{
    /// <summary>The marker placed after the last applied entry, or null when nothing was written since the newest snapshot.</summary>
    Task<SnapshotMarker?> StartSnapshotAsync(CancellationToken token);
}
