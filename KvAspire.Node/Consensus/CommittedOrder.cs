using System.Buffers;
using System.Threading.Channels;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;

using RaftEntry = DotNext.Net.Cluster.Consensus.Raft.StateMachine.LogEntry;

namespace KvAspire.Node.Consensus;

/// <summary>
/// Owns the committed order, the one entrance to F3: Raft hands over each committed entry here (already
/// durable: F2 synced it when it was appended), and in commit order it goes to F3 (the map) with its Raft
/// index and term. On the leader, the entry's context is the requests that proposed its writes, which then get their results. A read enters
/// F3 here too, under the same lock, once its read barrier has passed: behind every entry handed over
/// before it, which is the whole argument for reads seeing every acknowledged write. Snapshot markers are placed in the same stream,
/// so <c>snap.X</c> is a point of the committed order, and they are Raft's snapshots. Raft is told of the
/// one before the newest: its write-ahead log keeps the entries since, so a replica a few entries behind
/// when a snapshot is taken catches up from the log instead of receiving the whole map (etcd keeps such a
/// margin too). Only a replica behind that older snapshot receives it.
/// A committed entry that cannot be applied stops the node (<see cref="FailStop"/>): skipped, it would
/// leave this replica different from the others for good once a snapshot compacts the log.
/// </summary>
public sealed class CommittedOrder : IStateMachine, ISnapshotStarter
{
    private readonly PipelineQueues _queues;
    private readonly string _directory;
    private readonly FailStop _failStop;
    private readonly ILogger<CommittedOrder> _logger;

    // ApplyAsync, reads and the snapshot scheduler all write F2 and F3; this keeps their items in one order.
    private readonly SemaphoreSlim _order = new(1, 1);
    private long _orderedIndex;
    private long _orderedTerm;
    private long _lastWriteIndex;
    private long _lastTimestamp;
    private long _nextSnapshotNumber;
    private readonly Lock _snapshots = new();
    private StoredSnapshot? _newest;
    private volatile StoredSnapshot? _announced;

    public CommittedOrder(PipelineQueues queues, RecoveredState recovered, FailStop failStop, ILogger<CommittedOrder> logger)
    {
        _queues = queues;
        _failStop = failStop;
        _directory = recovered.DataDirectory;
        _logger = logger;
        _orderedIndex = recovered.CommitIndex;
        _lastWriteIndex = recovered.Map.AppliedIndex;
        _orderedTerm = recovered.Map.AppliedTerm;
        _lastTimestamp = recovered.LastTimestampUnixMs;
        _nextSnapshotNumber = recovered.NextSnapshotNumber;
        if (recovered.SnapshotNumber >= 0)
        {
            _newest = _announced = new StoredSnapshot(_directory, recovered.SnapshotNumber, recovered.SnapshotIndex,
                recovered.SnapshotTerm, Task.CompletedTask);
        }
    }

    public ISnapshot? Snapshot => _announced;

    /// <summary>Whether any client write has ever been applied here (its commit timestamp is kept).</summary>
    public bool HoldsWrites => Interlocked.Read(ref _lastTimestamp) > 0;

    /// <summary>
    /// The index of the last committed entry placed in F3: a read that enters F3 after this is read looks at
    /// the map with that entry applied (a read index). The map itself may not have reached it yet.
    /// </summary>
    public long OrderedIndex => Volatile.Read(ref _orderedIndex);

    public async ValueTask<long> ApplyAsync(RaftEntry entry, CancellationToken token)
    {
        try
        {
            if (entry.IsSnapshot)
                return await InstallAsync(entry, token);
            if (entry.Index <= _orderedIndex)
                return entry.Index; // replayed from the logs already: apply is idempotent by index
            var decoded = entry.TryGetPayload(out var payload) && !payload.IsEmpty ? Decode(payload) : null;
            if (decoded is null)
            {
                // Raft's own entries (a new leader's no-op, membership) and anything undecodable: nothing to apply.
                if (!payload.IsEmpty)
                    NodeLog.EntrySkipped(_logger, entry.Index, payload.Length);
                Volatile.Write(ref _orderedIndex, entry.Index);
                return entry.Index;
            }

            // Commit timestamps never go backwards: the same rule on every replica gives the same values.
            _lastTimestamp = Math.Max(_lastTimestamp, decoded.TimestampUnixMs);
            var committed = decoded with { Index = entry.Index, Term = entry.Term, TimestampUnixMs = _lastTimestamp };
            await EnqueueAsync(new CommittedWrites(committed, WaitingFor(committed, entry.Context)));
            _lastWriteIndex = entry.Index;
            _orderedTerm = entry.Term;
            Volatile.Write(ref _orderedIndex, entry.Index);
            return entry.Index;
        }
        catch (Exception e) when (e is not (OperationCanceledException or ChannelClosedException or SnapshotTransferException))
        {
            // Raft stops applying on this node once this throws; the node stops with it.
            NodeLog.ApplyFailed(_logger, entry.Index, e);
            _failStop.Stop();
            throw;
        }
    }

    public ValueTask ReclaimGarbageAsync(long watermark, CancellationToken token) =>
        ValueTask.CompletedTask; // snap.X retention is by count (the last 3), done after each snapshot

    /// <summary>
    /// Places snapshot marker X after the last ordered entry, or returns null when nothing was written
    /// since the newest snapshot (Raft's own entries change nothing worth a snapshot).
    /// </summary>
    public async Task<SnapshotMarker?> StartSnapshotAsync(CancellationToken token)
    {
        await _order.WaitAsync(token);
        try
        {
            long newest;
            lock (_snapshots)
                newest = _newest?.Index ?? 0;
            if (newest >= _lastWriteIndex)
                return null;
            var marker = new SnapshotMarker(_nextSnapshotNumber++);
            await _queues.ToApply.Writer.WriteAsync(marker, CancellationToken.None);
            _ = KeepWhenWrittenAsync(marker);
            return marker;
        }
        finally
        {
            _order.Release();
        }
    }

    /// <summary>
    /// A written snapshot holding every write ordered so far: a new one, or the newest when nothing was
    /// written since it (null when nothing was ever written here). After a linearizable read has passed
    /// here, that is every write acknowledged before the read.
    /// </summary>
    public async Task<StoredSnapshot?> SnapshotHoldingAllAsync(CancellationToken token)
    {
        if (await StartSnapshotAsync(token) is { } marker)
        {
            var (index, term) = await marker.Written.WaitAsync(token);
            return new StoredSnapshot(_directory, marker.Number, index, term, Task.CompletedTask);
        }
        lock (_snapshots)
            return _newest;
    }

    /// <summary>
    /// On the leader, the requests that proposed the entry's writes (the entry's context), each answering
    /// for its first committed entry only: a request proposed twice (a retry on a leader that kept or
    /// regained its place) commits twice with the same context, and its second entry is applied with no
    /// one waiting, as on the other replicas.
    /// </summary>
    private static PendingRequest?[] WaitingFor(CommittedEntry committed, object? context)
    {
        var waiting = new PendingRequest?[committed.Operations.Count];
        if (context is PendingRequest[] proposers && proposers.Length == waiting.Length)
        {
            for (var i = 0; i < waiting.Length; i++)
            {
                if (proposers[i] is { Entry: null } proposer && proposer.Operation.RequestId == committed.Operations[i].RequestId)
                {
                    proposer.Entry = committed;
                    waiting[i] = proposer;
                }
            }
        }
        return waiting;
    }

    private static CommittedEntry? Decode(ReadOnlySequence<byte> payload) =>
        payload.IsSingleSegment
            ? LogRecordFormat.DecodePayload(payload.FirstSpan)
            : LogRecordFormat.DecodePayload(payload.ToArray());

    /// <summary>
    /// Places a read in F3 behind every entry handed over so far. Called once the read's barrier has
    /// passed, that is every entry committed before the read arrived, so the map it reads holds every write
    /// acknowledged before it.
    /// </summary>
    public Task EnqueueReadAsync(PendingRequest read) => EnqueueAsync(read);

    private async Task EnqueueAsync(PipelineItem item)
    {
        await _order.WaitAsync(CancellationToken.None);
        try
        {
            await _queues.ToApply.Writer.WriteAsync(item, CancellationToken.None);
        }
        finally
        {
            _order.Release();
        }
    }

    /// <summary>The leader sent its snapshot: the map becomes that state, written here as the next snap.X.</summary>
    private async ValueTask<long> InstallAsync(RaftEntry entry, CancellationToken token)
    {
        byte[] bytes;
        try
        {
            bytes = await entry.ToByteArrayAsync(token: token);
        }
        catch (IOException e)
        {
            // The connection broke while the snapshot came in (a partition, the leader gone): nothing has
            // changed here, so the leader just sends it again.
            throw new SnapshotTransferException(e);
        }
        MapSnapshot received;
        using (var stream = new MemoryStream(bytes, writable: false))
            received = SnapshotFormat.Read(stream, bytes.Length).Snapshot;
        var marker = new SnapshotMarker(_nextSnapshotNumber++, received);
        await EnqueueAsync(marker);
        var (index, term) = await marker.Written;
        _lastTimestamp = received.LastTimestampUnixMs;
        _orderedTerm = term;
        _lastWriteIndex = index;
        Volatile.Write(ref _orderedIndex, index);
        // The map no longer follows the log before it: Raft must know this snapshot at once.
        lock (_snapshots)
            _newest = _announced = new StoredSnapshot(_directory, marker.Number, index, term, Task.CompletedTask);
        NodeLog.SnapshotInstalled(_logger, DataFiles.SnapshotName(marker.Number), received.Values.Count, index, term);
        return entry.Index;
    }

    private async Task KeepWhenWrittenAsync(SnapshotMarker marker)
    {
        try
        {
            var (index, term) = await marker.Written;
            lock (_snapshots)
            {
                if (_newest is { } newest && newest.Number > marker.Number)
                    return; // the leader's snapshot was installed meanwhile
                _announced = _newest;
                _newest = new StoredSnapshot(_directory, marker.Number, index, term, Task.CompletedTask);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Logged by the snapshotter; the snapshots Raft knows stay as they were.
        }
    }
}
