namespace KvAspire.Node.Storage;

/// <summary>
/// A write in the order the node committed it. <see cref="Index"/> is its place in that order (the Raft
/// index once the position is replicated; <see cref="Term"/> is 0 until then).
/// </summary>
public sealed record CommittedWrite(long Index, long Term, long TimestampUnixMs, KvOperation Operation);
