using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using KvAspire.Node.Storage;

namespace KvAspire.Node.Consensus;

/// <summary>
/// A <c>snap.X</c> as Raft sees it: the state after entry <see cref="Index"/>, sent as the file's bytes to
/// a replica too far behind for the log. The file may still be being written when the snapshot is
/// announced (at start-up); sending then waits for it.
/// </summary>
public sealed class StoredSnapshot(string directory, long number, long index, long term, Task written) : ISnapshot
{
    public long Number { get; } = number;

    public long Index { get; } = index;

    public long Term { get; } = term;

    public string FilePath => Path.Combine(directory, DataFiles.SnapshotName(Number));

    bool IDataTransferObject.IsReusable => true;

    long? IDataTransferObject.Length => written.IsCompletedSuccessfully ? new FileInfo(FilePath).Length : null;

    async ValueTask IDataTransferObject.WriteToAsync<TWriter>(TWriter writer, CancellationToken token)
    {
        await written.WaitAsync(token);
        await using var file = new FileStream(FilePath, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.Read | FileShare.Delete,
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
        });
        await writer.CopyFromAsync(file, token: token);
    }
}
