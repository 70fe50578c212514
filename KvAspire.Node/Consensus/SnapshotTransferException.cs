namespace KvAspire.Node.Consensus;

/// <summary>
/// The leader's snapshot did not arrive whole. Unlike a committed entry that cannot be applied, it
/// changed nothing on this node: the install fails and Raft sends the snapshot again.
/// </summary>
public sealed class SnapshotTransferException(IOException cause)
    : Exception("the leader's snapshot did not arrive whole", cause);
