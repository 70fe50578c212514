using System.Runtime.CompilerServices;
using KvAspire.Groups;
using KvAspire.Node.Consensus;
using KvAspire.Node.Errors;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Storage;

namespace KvAspire.Node.Replication;

/// <summary>
/// A position's side of a move between positions (docs/architecture.md, "Moving a range"), as the node that
/// runs the move asks it: commit a claim (a giver's fence, a taker's claim, a roll-back) and drop what lies
/// outside it; give the moving range's state; take one part of a copy. Claims and parts are proposed by
/// the leader (a follower is Unavailable, and the mover asks the next replica); a copy is read at any replica.
/// </summary>
public sealed class RangeTransfer(RaftGroup group, WriteProposer proposer, ReplicationPath replication, CommittedOrder order, ApplyWorker applier)
{
    /// <summary>
    /// The largest part of a copy: one install entry, a few batches of writes. Parts of 512 KiB took
    /// longer than a Raft message may on a loaded machine (CI): the leader cut its send off part-way, a
    /// follower logged "Unexpected end of request content", and the entry was sent again.
    /// </summary>
    public const int PartBytes = 128 * 1024;

    /// <summary>
    /// Commits <paramref name="claim"/> (when given; with <paramref name="fence"/>, as the giver's fence for
    /// that move) and, with <paramref name="dropUnclaimed"/>, the removal of the keys outside the claim (a
    /// giver's release, which ends its move); answers the claim and the move this position holds after them,
    /// read at a linearizable point (a claim of an older epoch than the one held changes nothing: the caller
    /// sees which holds).
    /// </summary>
    /// <exception cref="RequestFailedException">
    /// Unavailable: this node does not lead; Refused: the position has no claim yet, or did not take the
    /// fence (a lease it would split, another move of its own under way, a claim as new).
    /// </exception>
    public async Task<(OwnedRange Claim, MovePlan? Move)> ClaimAsync(OwnedRange? claim, MovePlan? fence, bool dropUnclaimed, CancellationToken cancellationToken)
    {
        if (applier.Claim is null)
            throw RequestFailedException.Refused($"position {group.Self.Position} has no claim yet (its leader commits the first once every member reads claims)");
        if (claim is not null)
            await (fence is null ? proposer.ProposeClaimAsync(claim) : proposer.ProposeFenceAsync(claim, fence)).WaitAsync(cancellationToken);
        if (dropUnclaimed)
            await proposer.ProposeDropUnclaimedAsync().WaitAsync(cancellationToken);
        await replication.ReadRevisionAsync(cancellationToken);
        var move = applier.Move;
        if (fence is not null && move?.IsSameMove(fence) != true)
            throw RequestFailedException.Refused($"position {group.Self.Position} was not fenced for the move to epoch {fence.After.Epoch}: {applier.FenceRefused ?? "it holds " + applier.Claim}");
        return (applier.Claim!, move);
    }

    /// <summary>
    /// The state of <paramref name="moving"/> after its fence: read behind a linearizable read (every committed
    /// entry, the fence among them, applied here), from a snapshot holding all of it, in parts.
    /// </summary>
    /// <exception cref="RequestFailedException">
    /// Refused: the position is not fenced for the move (its claim is older than the move's epoch).
    /// </exception>
    public async IAsyncEnumerable<(byte[] Part, int Keys, long Bytes, RangeExport Whole)> ExportAsync(OwnedRange moving,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await replication.ReadRevisionAsync(cancellationToken);
        var stored = await order.SnapshotHoldingAllAsync(cancellationToken);
        var whole = stored is null ? new MapSnapshot(0, 0, 0, 0, new Dictionary<string, StoredValue>(), new Dictionary<string, ClientSession>())
            : SnapshotFile.Load(stored.FilePath).Snapshot;
        if (whole.Claim is not { } claim || claim.Epoch < moving.Epoch)
        {
            throw RequestFailedException.Refused(
                $"position {group.Self.Position} is not fenced for the move to epoch {moving.Epoch}: its claim is {whole.Claim?.ToString() ?? "none"}");
        }
        var export = RangeExport.Of(whole, moving);
        foreach (var (part, keys, bytes) in export.Parts(PartBytes))
            yield return (SnapshotFormat.Encode(part), keys, bytes, export);
    }

    /// <summary>Commits one part of a copy given to this position for the move to <paramref name="epoch"/>.</summary>
    /// <exception cref="RequestFailedException">Unavailable: this node does not lead; InvalidArgument: the part is not a snapshot.</exception>
    public async Task InstallAsync(long epoch, bool first, ReadOnlyMemory<byte> part, CancellationToken cancellationToken)
    {
        MapSnapshot decoded;
        try
        {
            decoded = SnapshotFormat.Decode(part.Span);
        }
        catch (SnapshotCorruptException e)
        {
            throw new RequestFailedException(FailureKind.InvalidArgument, $"the part of the copy for epoch {epoch} is not a snapshot: {e.Message}");
        }
        await proposer.ProposeInstallAsync(epoch, first, part.Span).WaitAsync(cancellationToken);
    }
}
