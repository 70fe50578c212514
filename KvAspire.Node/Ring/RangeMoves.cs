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
/// A move of a range between positions (<see cref="MovePlan"/>: a boundary moved, a position added or
/// removed; docs/architecture.md, "Moving a range"). The node asked starts it with the giver's fence, which
/// carries the plan into the giver's log; from there the giver's leader drives it (<see cref="MoveDriver"/>),
/// one step after the other, each a committed entry in a group's log or a layout every node writes down,
/// each idempotent, so that the next leader takes the move on where the last one stopped:
/// <list type="number">
/// <item>fence: the giver claims its smaller range at the new epoch; from that entry on it serves no key of the range;</item>
/// <item>copy: a replica of the giver reads the range's state after the fence from a snapshot; the taker's leader commits it in parts;</item>
/// <item>claim: the taker claims its larger range at the new epoch, from which it serves the copy;</item>
/// <item>switch: every node is given the new layout (one that misses it learns it when asked: stale routes);</item>
/// <item>release: the giver drops the keys it no longer claims, which ends its move.</item>
/// </list>
/// A fence the giver does not take (a lease it would split, a move of its own under way) leaves the ring
/// as it was. A move that finds another change of the ring at its epoch after its fence (two asked at the
/// same moment), or its taker holding another move's claim at the epoch, is given up: the giver claims its
/// old range again at the new epoch.
/// </summary>
public sealed class RangeMoves(LocalRing ring, ClusterTopology topology, PeerClients peers, Forwarder forwarder, NodeOptions options, TimeProvider clock,
    NodeTelemetry telemetry, ILogger<RangeMoves> logger)
{
    /// <summary>How long one step may look for a leader of its position that answers.</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(200);

    /// <summary>How soon the node that started a move asks again when the giver has no leader driving it yet.</summary>
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a change of the ring waits for one under way to end before it is refused.</summary>
    private static readonly TimeSpan WaitForOtherMove = TimeSpan.FromSeconds(60);

    private readonly System.Diagnostics.Metrics.Counter<long> _movedKeys = telemetry.Meter.CreateCounter<long>("kvaspire.ring.moved_keys", "{key}",
        "Keys this node copied from a giver to a taker in the moves it drove");
    private readonly System.Diagnostics.Metrics.Counter<long> _movedBytes = telemetry.Meter.CreateCounter<long>("kvaspire.ring.moved_bytes", "By",
        "Bytes of keys and values this node copied in the moves it drove");

    /// <summary>
    /// Starts the move <paramref name="planOf"/> makes of the cluster's newest layout (the giver's fence) and
    /// follows it to its end as the giver's leaders drive it, reporting each step they take.
    /// </summary>
    /// <exception cref="ArgumentException">No such move (<see cref="MovePlan"/>'s).</exception>
    /// <exception cref="RequestFailedException">
    /// Refused: another move stayed under way, the giver did not take the fence (the ring is as it was), or the
    /// move was given up; Unavailable: no replica of a position answered in time (a move fenced goes on without this node).
    /// </exception>
    public async Task RunAsync(Func<RingLayout, MovePlan> planOf, Func<MoveProgress, Task> report, CancellationToken cancellationToken)
    {
        var plan = await PlanOnceNoneMovesAsync(planOf, report, cancellationToken);
        NodeLog.MoveStarted(logger, plan.After.Epoch, plan.Describe());
        await report(Progress(plan, "fence", $"position {plan.Giver} stops serving {plan.Moving}"));
        await OnPositionAsync(plan.Giver, "fence", (node, deadline) => peers.ClaimRangeAsync(node,
            new ClaimRangeRequest { Position = plan.Giver, Claim = plan.GiverClaim.ToMessage(), Fence = plan.ToMessage() }, deadline, cancellationToken), cancellationToken);
        await FollowAsync(plan, report, cancellationToken);
    }

    /// <summary>
    /// The move <paramref name="planOf"/> makes of the newest layout, once no position of it holds a move: two
    /// changes under way at once would both make the next epoch, each its own. One under way is waited for (up
    /// to <see cref="WaitForOtherMove"/>), then the plan is made again from the layout it left; so is a plan
    /// that a position's claim is already at the epoch of (a change ended between the reads of the layout and
    /// the claims, or its layout has not reached the nodes that answered). Two asked at the same moment,
    /// before either giver took its fence, can both pass: the givers' drivers then let one go on (<see cref="DriveAsync"/>).
    /// </summary>
    private async Task<MovePlan> PlanOnceNoneMovesAsync(Func<RingLayout, MovePlan> planOf, Func<MoveProgress, Task> report, CancellationToken cancellationToken)
    {
        var until = clock.GetUtcNow() + WaitForOtherMove;
        var (planned, reported) = ("", "");
        while (true)
        {
            var plan = planOf(await NewestLayoutAsync(cancellationToken));
            var described = $"{plan.Describe()} (from epoch {plan.Before.Epoch})";
            if (described != planned)
                await report(Progress(plan, "plan", described));
            planned = described;
            var positions = Enumerable.Range(0, Math.Max(plan.Before.Positions, plan.After.Positions));
            var replies = await Task.WhenAll(positions.Select(p => HeldAsync(p, cancellationToken)));
            string under;
            if (replies.FirstOrDefault(r => r.Move is not null)?.Move is { } message)
            {
                var held = MovePlan.FromMessage(message);
                under = $"position {held.Giver} is moving {held.Moving} to position {held.Taker} (epoch {held.After.Epoch})";
            }
            else if (replies.Select((reply, position) => (reply.Claim, position)).FirstOrDefault(c => c.Claim?.Epoch >= plan.After.Epoch) is { Claim: { } ahead } past)
                under = $"position {past.position} claims its range at epoch {ahead.Epoch}, past the layout the nodes answered (epoch {plan.Before.Epoch})";
            else
                return plan;
            if (clock.GetUtcNow() >= until)
                throw RequestFailedException.Refused($"another change of the ring is still under way after {WaitForOtherMove.TotalSeconds:F0} s: {under}");
            if (under != reported)
                await report(Progress(plan, "waiting", $"{under}; this change starts once it is done"));
            reported = under;
            await Task.Delay(FollowInterval, clock, cancellationToken);
        }
    }

    /// <summary>
    /// Reports the steps of the move to <paramref name="epoch"/> that <paramref name="giver"/> gives a range in,
    /// until it ends: for a console whose node failed during the move. Done at once when the ring has reached
    /// that epoch already (the move, or a later one, is over).
    /// </summary>
    /// <exception cref="RequestFailedException">
    /// Refused: the giver holds no such move and the ring is older (given up, or never fenced); Unavailable: no
    /// replica of a position answered in time.
    /// </exception>
    public async Task FollowAsync(int giver, long epoch, Func<MoveProgress, Task> report, CancellationToken cancellationToken)
    {
        if (await HeldMoveAsync(giver, cancellationToken) is { } plan && plan.After.Epoch == epoch)
        {
            await FollowAsync(plan, report, cancellationToken);
            return;
        }
        var layout = await NewestLayoutAsync(cancellationToken);
        if (layout.Epoch < epoch)
            throw RequestFailedException.Refused(
                $"position {giver} holds no move to ring epoch {epoch} and the ring is at epoch {layout.Epoch}: the move was given up, or its fence never taken");
        await report(new MoveProgress { Step = "done", Epoch = epoch, Giver = giver, Detail = $"epoch {epoch}: the ring is at epoch {layout.Epoch}" });
    }

    /// <summary>
    /// Reports the steps the giver's leader takes, until the move ends; a new leader's steps after the
    /// last one's (it starts the move over from the first step not done).
    /// </summary>
    private async Task FollowAsync(MovePlan plan, Func<MoveProgress, Task> report, CancellationToken cancellationToken)
    {
        var (driver, from, last) = ("", 0, (MoveProgress?)null);
        while (true)
        {
            var request = new MoveStatusRequest { Position = plan.Giver, Epoch = plan.After.Epoch, Driver = driver, From = from };
            var status = await OnPositionAsync(plan.Giver, "follow", (node, deadline) => peers.MoveStatusAsync(node, request, deadline, cancellationToken),
                cancellationToken);
            if (status.Driver.Length > 0 && status.Driver != driver)
            {
                if (driver.Length > 0)
                    await report(Progress(plan, "resume", $"{status.Driver} leads position {plan.Giver} now and takes the move on"));
                (driver, from) = (status.Driver, 0);
            }
            foreach (var step in status.Steps)
                await report(last = step);
            from += status.Steps.Count;
            if (status.Finished)
            {
                if (last?.Step is "done")
                    return;
                var held = OwnedRange.FromMessage(status.Claim);
                if (last?.Step is not "given up" && held == plan.GiverClaim)
                {
                    await report(Progress(plan, "done", $"epoch {plan.After.Epoch}: {plan.Describe()}"));
                    return;
                }
                throw RequestFailedException.Refused(last?.Detail ?? $"the move to epoch {plan.After.Epoch} was given up: position {plan.Giver} holds {held}");
            }
            // A driver's answer waits for its next step; none yet means its leader has not taken the move on.
            if (status.Driver.Length == 0)
                await Task.Delay(FollowInterval, clock, cancellationToken);
        }
    }

    /// <summary>The move position <paramref name="position"/> holds at a linearizable point, if any (<see cref="KvMap.Move"/>).</summary>
    /// <exception cref="RequestFailedException">No replica of the position answered in time.</exception>
    public async Task<MovePlan?> HeldMoveAsync(int position, CancellationToken cancellationToken) =>
        (await HeldAsync(position, cancellationToken)).Move is { } move ? MovePlan.FromMessage(move) : null;

    /// <summary>The claim and the move position <paramref name="position"/> holds, read at a linearizable point.</summary>
    private Task<ClaimRangeReply> HeldAsync(int position, CancellationToken cancellationToken) =>
        OnPositionAsync(position, "read the move",
            (node, deadline) => peers.ClaimRangeAsync(node, new ClaimRangeRequest { Position = position }, deadline, cancellationToken), cancellationToken);

    /// <summary>
    /// Takes the move <paramref name="plan"/> on from its first step not done, on the giver's leader: the
    /// copy (read at <paramref name="exporter"/>, the leader itself: a stream from a replica that stopped
    /// answering would wait for good) and the taker's claim unless the taker holds it already, then the
    /// switch and the release. Before the copy it reads every other position's claim and move, for another
    /// change at its epoch (<see cref="MovePlan.OtherChangeAt"/>): two asked at the same moment both pass the
    /// check before their fences (<see cref="PlanOnceNoneMovesAsync"/>); exactly one goes on.
    /// </summary>
    /// <exception cref="RequestFailedException">A step's position did not answer in time (the move stays fenced: try again).</exception>
    public async Task DriveAsync(MovePlan plan, NodeInfo exporter, Func<MoveProgress, Task> report, CancellationToken cancellationToken)
    {
        var progress = Progress(plan, "", "");
        var taker = await OnPositionAsync(plan.Taker, "claim",
            (node, deadline) => peers.ClaimRangeAsync(node, new ClaimRangeRequest { Position = plan.Taker }, deadline, cancellationToken), cancellationToken);
        if (OwnedRange.FromMessage(taker.Claim) != plan.TakerClaim)
        {
            while (await OtherChangeAsync(plan, cancellationToken) is { } other)
            {
                if (!other.Waits)
                {
                    await GiveUpAsync($"another change of the ring took epoch {plan.After.Epoch}: {other.What}");
                    return;
                }
                if (progress.Step != "waiting")
                    await Step(progress, "waiting", $"another change of the ring was asked for epoch {plan.After.Epoch} at the same moment ({other.What}); this one goes on if it is given up");
                await Task.Delay(FollowInterval, clock, cancellationToken);
            }
            await Step(progress, "copy", $"from position {plan.Giver} to position {plan.Taker}");
            await CopyAsync(plan, exporter, progress, report, cancellationToken);

            await Step(progress, "claim", $"position {plan.Taker} serves {plan.Moving}");
            var claimed = await OnPositionAsync(plan.Taker, "claim",
                (node, deadline) => peers.ClaimRangeAsync(node, Claim(plan.Taker, plan.TakerClaim), deadline, cancellationToken), cancellationToken);
            if (OwnedRange.FromMessage(claimed.Claim) is var held && held != plan.TakerClaim)
            {
                await GiveUpAsync($"position {plan.Taker} holds {held}, not {plan.TakerClaim}: another move's claim at this epoch");
                return;
            }
        }

        await Step(progress, "switch", await SwitchAsync(plan.After, cancellationToken));

        await Step(progress, "release", $"position {plan.Giver} drops the keys it gave");
        await OnPositionAsync(plan.Giver, "release",
            (node, deadline) => peers.ClaimRangeAsync(node, new ClaimRangeRequest { Position = plan.Giver, DropUnclaimed = true }, deadline, cancellationToken),
            cancellationToken);

        await Step(progress, "done", $"epoch {plan.After.Epoch}: {plan.Describe()}");
        NodeLog.MoveDone(logger, plan.After.Epoch, progress.KeysMoved, progress.BytesMoved);

        Task Step(MoveProgress at, string step, string detail)
        {
            at.Step = step;
            at.Detail = detail;
            return report(at.Clone());
        }

        async Task GiveUpAsync(string why)
        {
            NodeLog.MoveRolledBack(logger, plan.Giver, plan.GiverRollback.ToString(), why);
            await OnPositionAsync(plan.Giver, "roll back",
                (node, deadline) => peers.ClaimRangeAsync(node, Claim(plan.Giver, plan.GiverRollback), deadline, cancellationToken), cancellationToken);
            await Step(progress, "given up", $"the move to epoch {plan.After.Epoch} was given up ({why}); position {plan.Giver} serves {plan.GiverRollback}");
        }
    }

    /// <summary>What the other positions of <paramref name="plan"/>'s layouts hold, read at a linearizable point each, shows of another change at its epoch (<see cref="MovePlan.OtherChangeAt"/>): one to give up for first, else one to wait for; null when nothing.</summary>
    private async Task<OtherChange?> OtherChangeAsync(MovePlan plan, CancellationToken cancellationToken)
    {
        var positions = Enumerable.Range(0, Math.Max(plan.Before.Positions, plan.After.Positions)).Where(p => p != plan.Giver && p != plan.Taker).ToList();
        var replies = await Task.WhenAll(positions.Select(p => HeldAsync(p, cancellationToken)));
        return positions.Zip(replies)
            .Select(held => plan.OtherChangeAt(held.First, held.Second.Claim is { } claim ? OwnedRange.FromMessage(claim) : null,
                held.Second.Move is { } move ? MovePlan.FromMessage(move) : null))
            .OfType<OtherChange>()
            .OrderBy(other => other.Waits)
            .FirstOrDefault();
    }

    /// <summary>A step of <paramref name="plan"/>, for its reports.</summary>
    public static MoveProgress Progress(MovePlan plan, string step, string detail) =>
        new() { Epoch = plan.After.Epoch, Giver = plan.Giver, Taker = plan.Taker, Step = step, Detail = detail };

    private static ClaimRangeRequest Claim(int position, OwnedRange claim) => new() { Position = position, Claim = claim.ToMessage() };

    /// <summary>
    /// The copy, from <paramref name="exporter"/>, a replica of the giver (a stream that breaks is started
    /// over, from the first part: every copy of one move holds the same keys).
    /// </summary>
    private Task CopyAsync(MovePlan plan, NodeInfo exporter, MoveProgress progress, Func<MoveProgress, Task> report, CancellationToken cancellationToken) =>
        OnReplicasAsync(plan.Giver, [exporter], "copy", async (node, _) =>
        {
            progress.KeysMoved = progress.BytesMoved = 0;
            var first = true;
            var request = new ExportRangeRequest { Position = plan.Giver, Moving = plan.Moving.ToMessage() };
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
                await report(progress.Clone());
            }
            return true;
        }, cancellationToken);

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
    private Task<TReply> OnPositionAsync<TReply>(int position, string step, Func<NodeInfo, DateTime, Task<TReply>> call, CancellationToken cancellationToken) =>
        OnReplicasAsync(position, topology.ReplicasOf(position), step, call, cancellationToken);

    private async Task<TReply> OnReplicasAsync<TReply>(int position, IReadOnlyList<NodeInfo> replicas, string step, Func<NodeInfo, DateTime, Task<TReply>> call,
        CancellationToken cancellationToken)
    {
        var until = clock.GetUtcNow() + StepTimeout;
        while (true)
        {
            try
            {
                return await forwarder.CallReplicasAsync(position, replicas, call, cancellationToken);
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
