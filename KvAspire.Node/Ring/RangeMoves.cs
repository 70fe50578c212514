using Google.Protobuf;
using KvAspire.Cluster;
using KvAspire.Node.Configuration;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Node.Ring;

/// <summary>
/// Runs a move of a range between positions (<see cref="MovePlan"/>: a boundary moved, a position added or
/// removed) from the node asked (docs/architecture.md, "Moving a range"), one step after the other, each a committed entry in a group's log or a layout every node
/// writes down, each idempotent, so that the same move asked again after a failure resumes it:
/// <list type="number">
/// <item>fence: the giver claims its smaller range at the new epoch; from that entry on it serves no key of the range;</item>
/// <item>copy: a replica of the giver reads the range's state after the fence from a snapshot; the taker's leader commits it in parts;</item>
/// <item>claim: the taker claims its larger range at the new epoch, from which it serves the copy;</item>
/// <item>switch: every node is given the new layout (one that misses it learns it when asked: stale routes);</item>
/// <item>release: the giver drops the keys it no longer claims.</item>
/// </list>
/// A move the giver refuses to copy (moving keys attached to leases) is rolled back: the giver claims its
/// old range again at the new epoch, and the old layout is given that epoch. One move at a time on a node;
/// the node that runs a move does not make it durable (a move cut short by this node's crash is resumed,
/// or rolled back, by asking again).
/// </summary>
public sealed class RangeMoves(LocalRing ring, ClusterTopology topology, PeerClients peers, Forwarder forwarder, NodeOptions options, TimeProvider clock,
    NodeTelemetry telemetry, ILogger<RangeMoves> logger)
{
    /// <summary>How long one step may look for a leader of its position that answers.</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(200);

    private readonly SemaphoreSlim _one = new(1, 1);
    private readonly System.Diagnostics.Metrics.Counter<long> _movedKeys = telemetry.Meter.CreateCounter<long>("kvaspire.ring.moved_keys", "{key}",
        "Keys this node copied from a giver to a taker in the moves it ran");
    private readonly System.Diagnostics.Metrics.Counter<long> _movedBytes = telemetry.Meter.CreateCounter<long>("kvaspire.ring.moved_bytes", "By",
        "Bytes of keys and values this node copied in the moves it ran");

    /// <summary>
    /// Runs the move <paramref name="planOf"/> makes of the cluster's newest layout, reporting each step as it
    /// starts and each part copied.
    /// </summary>
    /// <exception cref="ArgumentException">No such move (<see cref="MovePlan"/>'s).</exception>
    /// <exception cref="RequestFailedException">A step failed: Refused (the giver's keys hold leases; another move on this node; a claim of another move), Unavailable (no leader answered in time).</exception>
    public async Task RunAsync(Func<RingLayout, MovePlan> planOf, Func<MoveProgress, Task> report, CancellationToken cancellationToken)
    {
        if (!await _one.WaitAsync(0, cancellationToken))
            throw RequestFailedException.Refused("a move is under way on this node; one at a time");
        try
        {
            var plan = planOf(await NewestLayoutAsync(cancellationToken));
            var progress = new MoveProgress { Epoch = plan.After.Epoch, Giver = plan.Giver, Taker = plan.Taker };
            NodeLog.MoveStarted(logger, plan.After.Epoch, plan.Describe());

            await Step(progress, "fence", $"position {plan.Giver} stops serving {plan.Moving}");
            await OnPositionAsync(plan.Giver, "fence", (node, deadline) => peers.ClaimRangeAsync(node, Claim(plan.Giver, plan.GiverClaim), deadline, cancellationToken),
                cancellationToken);

            await Step(progress, "copy", $"from position {plan.Giver} to position {plan.Taker}");
            try
            {
                await CopyAsync(plan, progress, report, cancellationToken);
            }
            catch (RequestFailedException refused) when (refused.Kind == FailureKind.Refused)
            {
                await RollBackAsync(plan, refused.Message, cancellationToken);
                throw;
            }

            await Step(progress, "claim", $"position {plan.Taker} serves {plan.Moving}");
            var claimed = await OnPositionAsync(plan.Taker, "claim",
                (node, deadline) => peers.ClaimRangeAsync(node, Claim(plan.Taker, plan.TakerClaim), deadline, cancellationToken), cancellationToken);
            if (RangeClaimMessages.FromMessage(claimed.Claim) is var held && held != plan.TakerClaim)
            {
                var why = $"position {plan.Taker} holds {held}, not {plan.TakerClaim}: another move's claim at this epoch";
                await RollBackAsync(plan, why, cancellationToken);
                throw RequestFailedException.Refused(why);
            }

            await Step(progress, "switch", await SwitchAsync(plan.After, cancellationToken));

            await Step(progress, "release", $"position {plan.Giver} drops the keys it gave");
            await OnPositionAsync(plan.Giver, "release",
                (node, deadline) => peers.ClaimRangeAsync(node, new ClaimRangeRequest { Position = plan.Giver, DropUnclaimed = true }, deadline, cancellationToken),
                cancellationToken);

            await Step(progress, "done", $"epoch {plan.After.Epoch}: {plan.Describe()}");
            NodeLog.MoveDone(logger, plan.After.Epoch, progress.KeysMoved, progress.BytesMoved);
        }
        finally
        {
            _one.Release();
        }

        Task Step(MoveProgress progress, string step, string detail)
        {
            progress.Step = step;
            progress.Detail = detail;
            return report(progress);
        }
    }

    private static ClaimRangeRequest Claim(int position, OwnedRange claim) => new() { Position = position, Claim = RangeClaimMessages.ToMessage(claim) };

    /// <summary>
    /// The copy, from a replica of the giver (a stream that breaks is started over, from the first part: the
    /// first part of a copy makes the taker drop what an earlier one left).
    /// </summary>
    private Task CopyAsync(MovePlan plan, MoveProgress progress, Func<MoveProgress, Task> report, CancellationToken cancellationToken) =>
        OnPositionAsync(plan.Giver, "copy", async (node, _) =>
        {
            progress.KeysMoved = progress.BytesMoved = 0;
            var first = true;
            var request = new ExportRangeRequest { Position = plan.Giver, Moving = RangeClaimMessages.ToMessage(plan.Moving) };
            // No deadline: a range copies as long as it takes, each part's install within its own.
            await foreach (var part in peers.ExportRangeAsync(node, request, DateTime.MaxValue, cancellationToken))
            {
                var install = new InstallRangeRequest { Position = plan.Taker, Epoch = plan.After.Epoch, First = first, Data = part.Data };
                await OnPositionAsync(plan.Taker, "copy", (leader, deadline) => peers.InstallRangeAsync(leader, install, deadline, cancellationToken),
                    cancellationToken);
                first = false;
                progress.KeysMoved += part.Keys;
                progress.BytesMoved += part.Bytes;
                (progress.KeysTotal, progress.BytesTotal) = (part.KeysTotal, part.BytesTotal);
                (progress.Step, progress.Detail) = ("copied", $"from {node.Name}");
                _movedKeys.Add(part.Keys);
                _movedBytes.Add(part.Bytes);
                await report(progress);
            }
            return true;
        }, cancellationToken);

    private async Task RollBackAsync(MovePlan plan, string why, CancellationToken cancellationToken)
    {
        NodeLog.MoveRolledBack(logger, plan.Giver, plan.GiverRollback.ToString(), why);
        await OnPositionAsync(plan.Giver, "roll back", (node, deadline) => peers.ClaimRangeAsync(node, Claim(plan.Giver, plan.GiverRollback), deadline, cancellationToken),
            cancellationToken);
        await SwitchAsync(plan.Before with { Epoch = plan.After.Epoch }, cancellationToken);
    }

    /// <summary>Gives every node the new layout, this one first; says how many took it (the others learn it when asked).</summary>
    private async Task<string> SwitchAsync(RingLayout after, CancellationToken cancellationToken)
    {
        ring.Adopt(after);
        var deadline = clock.GetUtcNow().UtcDateTime + options.PeerProbeTimeout;
        var answers = await Task.WhenAll(topology.Nodes.Select(async node =>
        {
            try
            {
                return await peers.AdoptLayoutAsync(node, after, deadline, cancellationToken) >= after.Epoch ? null : $"{node.Name} refused it";
            }
            catch (RequestFailedException e)
            {
                return $"{node.Name}: {e.Message}";
            }
        }));
        var missed = answers.OfType<string>().ToList();
        return missed.Count == 0
            ? $"all {answers.Length} nodes route with epoch {after.Epoch}"
            : $"{answers.Length - missed.Count} of {answers.Length} nodes took epoch {after.Epoch}; the rest learn it when asked ({string.Join("; ", missed)})";
    }

    /// <summary>The newest layout any node answers (this node's when it is the newest), taken by this node.</summary>
    private async Task<RingLayout> NewestLayoutAsync(CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow().UtcDateTime + options.PeerProbeTimeout;
        await Task.WhenAll(topology.Nodes.Select(async node =>
        {
            try
            {
                ring.Adopt(await peers.GetLayoutAsync(node, deadline, cancellationToken));
            }
            catch (RequestFailedException)
            {
                // A node down knows no newer layout than the others that took part in the last change.
            }
        }));
        return ring.Current.Layout;
    }

    /// <summary>
    /// A step's call to a replica of <paramref name="position"/>, as the topology names them (a position being
    /// added is not in the layout yet; <see cref="Forwarder.CallReplicasAsync"/>: the one that answered last
    /// first; for a proposal, only the leader answers, a follower is Unavailable),
    /// tried again through elections until one answers or the step's time is up.
    /// </summary>
    private async Task<TReply> OnPositionAsync<TReply>(int position, string step, Func<NodeInfo, DateTime, Task<TReply>> call, CancellationToken cancellationToken)
    {
        var until = clock.GetUtcNow() + StepTimeout;
        while (true)
        {
            try
            {
                return await forwarder.CallReplicasAsync(position, topology.ReplicasOf(position), call,
                    cancellationToken);
            }
            catch (RequestFailedException e) when (e.IsWorthRetrying && !cancellationToken.IsCancellationRequested)
            {
                if (clock.GetUtcNow() >= until)
                    throw RequestFailedException.Unavailable($"{step}: no replica of position {position} answered in {StepTimeout.TotalSeconds:F0} s: {e.Message}", e);
            }
            await Task.Delay(RetryPause, clock, cancellationToken);
        }
    }
}
