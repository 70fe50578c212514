namespace KvAspire.Node.Storage;

/// <summary>
/// One Raft log entry as <c>log.X</c> keeps it: its place, its term, and its body as Raft carries it (a batch
/// of writes, see <see cref="LogRecordFormat.EncodeOperations"/>, or empty for Raft's own entries such as
/// a new leader's first entry). <see cref="CommandId"/> and <see cref="IsMembership"/> are Raft's marks,
/// kept so the entry is handed back to Raft as it was.
/// </summary>
public sealed record RaftEntry(long Index, long Term, ReadOnlyMemory<byte> Body, int? CommandId = null, bool IsMembership = false);
