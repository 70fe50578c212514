using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Node.Concurrency;
using KvAspire.Node.Configuration;
using KvAspire.Node.Errors;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Storage;
using KvAspire.Operations;

namespace KvAspire.Node.Replication;

/// <summary>
/// Owns putting the leader's writes into Raft. One entry of writes is proposed at a time, in arrival order: the
/// writes that arrive while it is being committed wait together for the next (up to
/// <see cref="NodeOptions.EntryWrites"/> writes and <see cref="NodeOptions.EntryBytes"/> bytes), so under
/// load one append, one replication round, one apply and one <c>log.X</c> record serve many writes, and a
/// lone write is proposed at once. The entry's context is its requests, in the order of its writes.
/// </summary>
public sealed class WriteProposer
{
    private readonly IRaftCluster _raft;
    private readonly LeaseReadiness _leases;
    private readonly TimeProvider _clock;
    private readonly CallBatcher<PendingRequest> _entries;
    private Leadership? _leadership;

    public WriteProposer(IRaftCluster raft, LeaseReadiness leases, NodeOptions options, TimeProvider clock)
    {
        _raft = raft;
        _leases = leases;
        _clock = clock;
        _entries = new CallBatcher<PendingRequest>(options.EntryWrites, options.EntryBytes, ReplicateAsync);
    }

    /// <summary>What a proposal carries: cancelled when this leadership ends; the term it was won in.</summary>
    private sealed record Leadership(CancellationToken Token, long Term);

    /// <summary>
    /// Completes once the entry carrying <paramref name="request"/> is committed (and so handed to F2 and
    /// F3, where the request gets its result).
    /// </summary>
    /// <exception cref="RequestFailedException">
    /// Unavailable: this node does not lead, or stopped leading before the entry committed, or the request
    /// needs leases and a member's release does not keep them yet (<see cref="LeaseReadiness"/>).
    /// </exception>
    public Task ProposeAsync(PendingRequest request) =>
        LeaseReadiness.Needs(request.Operation) && _leases.Waiting is { } waiting
            ? Task.FromException(RequestFailedException.Unavailable($"position {request.Route.Owner} takes no lease calls yet: {waiting}"))
            : _entries.AddAsync(request, LogRecordFormat.OperationSize(request.Operation));

    /// <summary>
    /// Proposes the position's revision baseline (<see cref="LogRecordFormat.EncodeRevisionBaseline"/>);
    /// completes once it is committed. Proposed again, it changes nothing.
    /// </summary>
    /// <exception cref="RequestFailedException">Unavailable: this node does not lead, or stopped leading before the entry committed.</exception>
    public Task ProposeRevisionBaselineAsync() =>
        ReplicateAsync(LogRecordFormat.EncodeRevisionBaseline(), Array.Empty<PendingRequest>());

    /// <summary>
    /// Proposes the range the position owns (<see cref="LogRecordFormat.EncodeClaim"/>); completes once it is
    /// committed. Proposed again, it changes nothing.
    /// </summary>
    /// <exception cref="RequestFailedException">Unavailable: this node does not lead, or stopped leading before the entry committed.</exception>
    public Task ProposeClaimAsync(OwnedRange claim) =>
        ReplicateAsync(LogRecordFormat.EncodeClaim(claim), Array.Empty<PendingRequest>());

    /// <summary>
    /// Proposes a giver's fence (<see cref="LogRecordFormat.EncodeFence"/>): its smaller range and the move; completes once it is
    /// committed (taken or not: <see cref="KvMap.Move"/> says).
    /// </summary>
    /// <exception cref="RequestFailedException">Unavailable: this node does not lead, or stopped leading before the entry committed.</exception>
    public Task ProposeFenceAsync(OwnedRange claim, MovePlan move) =>
        ReplicateAsync(LogRecordFormat.EncodeFence(claim, move), Array.Empty<PendingRequest>());

    /// <summary>Proposes one part of a range another position gives this one (<see cref="LogRecordFormat.EncodeInstall"/>); completes once it is committed.</summary>
    /// <exception cref="RequestFailedException">Unavailable: this node does not lead, or stopped leading before the entry committed.</exception>
    public Task ProposeInstallAsync(long epoch, bool first, ReadOnlySpan<byte> part) =>
        ReplicateAsync(LogRecordFormat.EncodeInstall(epoch, first, part), Array.Empty<PendingRequest>());

    /// <summary>Proposes the removal of the keys outside the position's claim (<see cref="LogRecordFormat.EncodeDropUnclaimed"/>); completes once it is committed.</summary>
    /// <exception cref="RequestFailedException">Unavailable: this node does not lead, or stopped leading before the entry committed.</exception>
    public Task ProposeDropUnclaimedAsync() =>
        ReplicateAsync(LogRecordFormat.EncodeDropUnclaimed(), Array.Empty<PendingRequest>());

    /// <summary>Proposes writes of the node's own (no request waits for them) as one entry; completes once it is committed.</summary>
    /// <exception cref="RequestFailedException">Unavailable: this node does not lead, or stopped leading before the entry committed.</exception>
    public Task ProposeAsync(IReadOnlyList<KvOperation> operations) =>
        ReplicateAsync(LogRecordFormat.EncodeOperations(_clock.GetUtcNow().ToUnixTimeMilliseconds(), operations), Array.Empty<PendingRequest>());

    private Task ReplicateAsync(PendingRequest[] requests)
    {
        var operations = Array.ConvertAll(requests, request => request.Operation);
        // The leader's clock proposes the commit timestamp; the state machine keeps it from going backwards.
        return ReplicateAsync(LogRecordFormat.EncodeOperations(_clock.GetUtcNow().ToUnixTimeMilliseconds(), operations), requests);
    }

    private async Task ReplicateAsync(ReadOnlyMemory<byte> payload, PendingRequest[] requests)
    {
        // Proposed with the term this leadership was won in, and abandoned (then tried again) if it ends.
        var held = await CurrentLeadershipAsync() ?? throw RequestFailedException.Unavailable("this node does not lead its position (or its first entry as leader is not committed yet)");
        try
        {
            await _raft.ReplicateAsync(new BinaryLogEntry { Content = payload, Term = held.Term, Context = requests }, held.Token);
        }
        catch (OperationCanceledException e) when (held.Token.IsCancellationRequested)
        {
            throw RequestFailedException.Unavailable("this node stopped leading before the entry committed", e);
        }
        catch (LeaderOperationException e)
        {
            throw RequestFailedException.Unavailable(e.Message, e);
        }
    }

    /// <summary>
    /// This node's leadership, as a proposal must carry it, or null when it does not lead or its first
    /// entry as leader is not committed yet (before that, DotNext's leadership token is cancelled too).
    /// DotNext's <c>ReplicateAsync(payload)</c> stamps an entry with the node's current term, and a leader
    /// that steps down raises that term before its leader state ends. A proposal in between appends an
    /// entry with the new leader's term at an index where the new leader has a different entry; Raft's log
    /// matching (same index and term, same entry) then keeps it, and this replica applies an entry no other
    /// has (found by the leader-pause nemesis). The term here is the term of the last entry of this node's
    /// own log while it leads: its first entry as leader and every one after carry its term, and a newer
    /// leader's entries are appended only after this leadership has ended.
    /// </summary>
    private async ValueTask<Leadership?> CurrentLeadershipAsync()
    {
        var token = _raft.LeadershipToken;
        if (token.IsCancellationRequested)
            return null;
        if (_leadership is { } known && known.Token == token)
            return known;
        var last = _raft.AuditTrail.LastEntryIndex;
        long term;
        try
        {
            term = await _raft.AuditTrail.ReadAsync(new LastTermReader(), last, last, token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return null;
        }
        if (token.IsCancellationRequested)
            return null; // the term read may be a newer leader's
        return _leadership = new Leadership(token, term);
    }

    private sealed class LastTermReader : ILogEntryConsumer<IRaftLogEntry, long>
    {
        public bool LogEntryMetadataOnly => true;

        public ValueTask<long> ReadAsync<TEntry, TList>(TList entries, long? snapshotIndex, CancellationToken token)
            where TEntry : IRaftLogEntry
            where TList : IReadOnlyList<TEntry> =>
            entries.Count > 0
                ? ValueTask.FromResult(entries[^1].Term)
                : ValueTask.FromException<long>(new InvalidOperationException("the log returned no entry for its last index"));
    }
}
