using KvAspire.Node.Storage;

namespace KvAspire.Tests.Support;

/// <summary>Writes committed writes to a <c>log.X</c> as a node does: each a Raft entry, then a commit record for the last.</summary>
public static class CommittedLogWriter
{
    public static RaftEntry ToRaftEntry(CommittedEntry entry) =>
        new(entry.Index, entry.Term, LogRecordFormat.EncodeOperations(entry.TimestampUnixMs, entry.Operations));

    public static void AppendCommitted(this OperationLog log, IReadOnlyList<CommittedEntry> entries) =>
        log.Append([.. entries.Select(ToRaftEntry)], entries.Count > 0 ? entries[^1].Index : null);
}
