using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Cluster;
using KvAspire.Client.Shell;
using KvAspire.Driver;
using KvAspire.Node.Configuration;
using KvAspire.Routing;
using KvAspire.Tests.Support;
using KvAspire.V1;
using Xunit.Abstractions;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// The ring changes while the history clients run (<see cref="RegisterWorkload"/>) and a replica of a group
/// taking part is killed (kill -9) during each change: on a ring of 2 positions × 3 replicas and a third
/// position's spares, position 1's ring id moves up (position 0 gives it the keys between), then down past
/// where it started (position 1 gives keys to position 0); position 2 joins at the middle of the widest arc
/// (taking its keys from position 0), then leaves again (giving them back). The victims: the taker's
/// leader during the copy, the node the console asked (the console follows the move through another), the giver's leader as it is asked to fence, and the
/// giver's leader frozen (SIGSTOP) during a copy of 4 MiB and thawed once the move is done: its group's next
/// leader must take the move on, and the old one, thawed, must not undo it (the same change asked again
/// meanwhile waits for it, then finds position 2 gone). No change is asked twice: a move
/// its giver has fenced for is driven to its end by whichever replica leads the giver. Afterwards the history is
/// linearizable, each position's revisions never go backwards, the replicas' logs agree, the watches of the
/// workload's keys and of one key that every change moves followed them (each acknowledged write's event once, in
/// order per position and per key across positions), and every key is served by exactly
/// the position the final layout names, with its latest acknowledged value. Leases move with the key each
/// was placed with: one kept alive through the library on a key every change moves, and one granted on
/// position 1 whose key ends on position 0, hold throughout, answer by their ids at the end (the second
/// through position 1, which sends it on), and end there (expired, revoked); leases granted all along and
/// let lapse end, none early (<see cref="LeaseProbe"/>). A move that would split a lease (its key moving,
/// another of its keys not) is refused at the fence: the ring stays as it was.
/// KVASPIRE_RING_CHANGE_ROUNDS sets how many rounds of the four changes run (1 by default).
/// </summary>
[Trait("Category", "EndToEnd")]
[Trait("Category", "Nemesis")]
[Collection(NemesisCollection.Name)]
public sealed class RingChangeNemesisTests(ITestOutputHelper output) : IDisposable
{
    private const ulong Up = 0xBFFF_FFFF_FFFF_FFFFUL, Down = 0x3FFF_FFFF_FFFF_FFFFUL;
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    /// <summary>
    /// One change of the ring: the console's arguments, the replica killed during it and the step at which,
    /// what it says when done, and a line of the console's <c>ring</c> once it is.
    /// </summary>
    /// <param name="Frozen">
    /// The victim, the giver's leader, is frozen rather than killed, and thawed once the change is done: its
    /// group's next leader must take the move on. Its range holds <see cref="FrozenRangeKeys"/> keys of 1 KiB
    /// more, so that the copy lasts past the freeze.
    /// </param>
    private sealed record Change(string[] Arguments, Func<LocalCluster, Task<TestNode>> Victim, string Step, string Done, string Layout, bool Frozen = false);

    private const int FrozenRangeKeys = 4000;

    /// <summary>
    /// The TTL of the leases kept alive through the changes: longer than a move's pause here plus the third
    /// of it between renewals. A call on a moving lease waits from the giver's fence until the new layout is
    /// known (as a call on a moving key does): up to 25 s here, where a kill or a freeze cuts a move short. A
    /// lease that no renewal reaches for its TTL is lost to its holder (it lives on at the taker).
    /// </summary>
    private static readonly TimeSpan KeptTtl = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Changes_of_the_ring_under_kills_lose_no_write_and_leave_every_key_served_by_its_final_owner()
    {
        var rounds = int.Parse(Environment.GetEnvironmentVariable("KVASPIRE_RING_CHANGE_ROUNDS") ?? "1", CultureInfo.InvariantCulture);
        var topology = TestTopology.Ring(_directory, positions: 2, replicas: 3, spares: 1);
        await using var cluster = await LocalCluster.StartAsync(topology);
        var serving = topology.Nodes.Where(n => n.Position < 2).ToList();
        // A leader hint names the node's address.
        var positionOf = topology.Nodes.ToDictionary(n => n.GrpcEndPoint, n => n.Position);
        // The serving nodes, as the connection string of the Aspire integration names them: a spare may not run.
        using var client = new KvClient(topology.ClientOptions(serving));
        var first = RingLayout.Of(TopologyLoader.Load(topology.Path));
        // Keys position 2 owns once it has joined (at 0x9fff…, after position 1 moved down to Down).
        var joined = new RingMath(64, [first.PositionIds[0], Down, 0x9FFF_FFFF_FFFF_FFFFUL]);
        var inPosition2 = Enumerable.Range(0, int.MaxValue).Select(i => $"s-{i}").Where(k => joined.OwnerOfKey(k) == 2);
        // Keys nobody writes after their create: each must be found whole, at its final owner alone.
        var still = Enumerable.Range(0, 60).Select(i => $"m-{i}").ToList();
        await cluster.WaitForClaimsAsync();
        await Parallel.ForEachAsync(still, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (key, _) => await client.CreateAsync(key, key));

        var workload = new RegisterWorkload(serving.Select(n => n.GrpcEndPoint).ToList(), clients: 6, keysPerClient: 8,
            NodeOptions.For(TopologyLoader.Load(topology.Path)));
        // Watches through the library, from before the first write: every key the workload writes, and one key
        // that changes hands in every change (position 0 to 1, back, to 2 and back): each must follow its keys.
        var ringAfterFirst = new RingMath(64, [first.PositionIds[0], Up]);
        var traveller = Enumerable.Range(0, 6).SelectMany(c => Enumerable.Range(0, 8).Select(k => $"rolling-{c}-{k}"))
            .First(k => first.Ring().OwnerOfKey(k) == 0 && ringAfterFirst.OwnerOfKey(k) == 1 && joined.OwnerOfKey(k) == 2);
        var servingAddresses = serving.Select(n => n.GrpcEndPoint).ToList();
        await using var watch = await WatchRecorder.StartAsync(servingAddresses, null, "rolling-", positions: 2, () => workload.Now);
        await using var keyWatch = await WatchRecorder.StartAsync(servingAddresses, null, traveller, positions: 1, () => workload.Now, prefix: false);
        // Leases on keys that change hands: one every change moves (0, 1, 0, 2, 0), one granted on position 1 that ends on 0.
        var final = first with { PositionIds = [first.PositionIds[0], Down] };
        var travellingKey = Enumerable.Range(0, int.MaxValue).Select(i => $"lease-travel-{i}")
            .First(k => first.Ring().OwnerOfKey(k) == 0 && ringAfterFirst.OwnerOfKey(k) == 1 && joined.OwnerOfKey(k) == 2);
        var crossingKey = Enumerable.Range(0, int.MaxValue).Select(i => $"lease-cross-{i}").First(k => first.Ring().OwnerOfKey(k) == 1 && final.Ring().OwnerOfKey(k) == 0);
        var travelling = await client.GrantLeaseAsync(KeptTtl, travellingKey);
        var crossing = await client.GrantLeaseAsync(KeptTtl, crossingKey);
        await client.CreateAsync(travellingKey, "held"u8.ToArray(), travelling.Id);
        await client.CreateAsync(crossingKey, "held"u8.ToArray(), crossing.Id);
        Assert.Equal((0, 1), (travelling.Position, crossing.Position));
        await using var leases = await LeaseProbe.StartAsync(servingAddresses, keptTtl: KeptTtl);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var lost = new System.Collections.Concurrent.ConcurrentQueue<string>();
        travelling.Lost.Register(() => lost.Enqueue($"travelling at {clock.Elapsed.TotalSeconds:F1} s"));
        crossing.Lost.Register(() => lost.Enqueue($"crossing at {clock.Elapsed.TotalSeconds:F1} s"));
        using var stop = new CancellationTokenSource();
        var running = workload.RunAsync(stop.Token);
        Change[] changes =
        [
            // The taker's leader, while it commits the copy.
            new(["move", "1", $"0x{Up:x}"], c => c.WaitForLeaderAsync(1, TimeSpan.FromSeconds(30)), "copy", "position 0 gave", $"position 1  id 0x{Up:x}"),
            // The node the console asks, once the giver's leader drives the move: the move goes on without it, and the console follows it through another.
            new(["move", "1", $"0x{Down:x}"], _ => Task.FromResult(topology.Nodes[0]), "copy", "position 1 gave", $"position 1  id 0x{Down:x}"),
            // The giver's leader, as it is asked to fence: the next leader finds the fence in the log and drives the move.
            new(["add-position", "2"], c => c.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30)), "fence", "position 2 joins at ring id 0x9fffffffffffffff",
                "position 2  id 0x9fffffffffffffff"),
            // The giver's leader, frozen during the copy it drives.
            new(["remove-position", "2"], c => c.WaitForLeaderAsync(2, TimeSpan.FromSeconds(30)), "copy", "position 2 leaves", "spares  p2r0 (position 2)", Frozen: true),
        ];
        var epoch = 1L;
        var acknowledgedBefore = 0L;
        var resumed = 0;
        try
        {
            for (var round = 0; round < rounds; round++)
            {
                foreach (var change in changes)
                {
                    epoch++;
                    if (change.Frozen && round == 0)
                    {
                        await KiBValues.WriteAsync(client, inPosition2.Take(FrozenRangeKeys));
                        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: {FrozenRangeKeys} keys of 1 KiB written to position 2");
                    }
                    var victim = await change.Victim(cluster);
                    ClientRun run;
                    ClientRun? again = null;
                    using (var asked = ClientProcess.Start(["--cluster", topology.Path, "ring", .. change.Arguments]))
                    {
                        await Wait.UntilAsync(() => asked.ErrorLines.Any(l => l.StartsWith(change.Step + ":", StringComparison.Ordinal)),
                            TimeSpan.FromSeconds(30), $"step {change.Step} of {string.Join(' ', change.Arguments)}");
                        await (change.Frozen ? cluster.PauseAsync(victim) : cluster.KillAsync(victim));
                        if (change.Frozen)
                            again = await AskAgainWhileStalledAsync(change, victim);
                        run = await asked.WaitForExitAsync(TimeSpan.FromMinutes(2));
                    }
                    resumed += run.Errors.Split('\n').Count(l => l.StartsWith("resume:", StringComparison.Ordinal));
                    var drivers = topology.Nodes.Where(n => n != victim && cluster.OutputOf(n).Contains($"Driving the move to ring epoch {epoch} ", StringComparison.Ordinal));
                    output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: epoch {epoch}: {string.Join(' ', change.Arguments)}, {victim.Name} {(change.Frozen ? "frozen" : "killed")} at {change.Step}: exit {run.ExitCode} {run.Errors.Split('\n')[^1]}; " +
                                     $"driven by {string.Join(", ", drivers.Select(n => n.Name).DefaultIfEmpty("the victim alone"))} of the nodes alive");
                    if (change.Frozen)
                    {
                        await cluster.ResumeAsync(victim);
                        Assert.True(run.ExitCode == 0 && run.Errors.Contains("resume:", StringComparison.Ordinal),
                            $"{string.Join(' ', change.Arguments)}: the giver's next leader did not take the move on from {victim.Name}, frozen: {run.Output}{run.Errors}");
                        Assert.True(again is { ExitCode: ExitCodes.InvalidInput } && again.Errors.Contains($"waiting: position {change.Arguments[^1]} ", StringComparison.Ordinal)
                                    && again.Errors.Contains("(the ring is as it was)", StringComparison.Ordinal),
                            $"{string.Join(' ', change.Arguments)} asked again during the first: exit {again?.ExitCode}: {again?.Output}{again?.Errors}");
                        output.WriteLine($"asked again meanwhile: {again!.Errors.Split('\n').First(l => l.StartsWith("waiting:", StringComparison.Ordinal))} … exit {again.ExitCode}");
                    }
                    else
                        await cluster.StartAsync(victim);
                    // Never asked again: a fenced move is driven to its end by the giver's leader, whoever that is, and
                    // a console whose node fails follows it through another to its end.
                    Assert.True(run.ExitCode == 0, $"{string.Join(' ', change.Arguments)}: exit {run.ExitCode}: {run.Output}{run.Errors}");
                    Assert.Contains(change.Done, run.Output);
                    if (victim == topology.Nodes[0])
                        Assert.Contains("follow: ", run.Errors);
                    var ring = await RingAsync();
                    Assert.Equal(epoch, Epoch(ring));
                    Assert.Contains(change.Layout, ring);
                }
                if (round == 0)
                    acknowledgedBefore = workload.Acknowledged;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
        await leases.StopAsync(TimeSpan.FromSeconds(30));
        Assert.True(acknowledgedBefore > 0, "no write was acknowledged while the ring changed");

        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: changes done");
        foreach (var node in topology.Nodes)
            await cluster.WaitCaughtUpAsync(node, TimeSpan.FromSeconds(30));
        await workload.VerifyAsync();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s: every key read through every node");
        var verdict = LinearizabilityChecker.Check(workload.History);
        var answered = workload.History.Where(o => o.Leader is not null).ToList();
        var revisionViolations = RevisionChecker.Check(answered, o => positionOf[o.Leader!]);
        var finalRevisions = new Dictionary<int, long>();
        foreach (var node in topology.Nodes)
            finalRevisions[node.Position] = Math.Max(finalRevisions.GetValueOrDefault(node.Position), (await GroupProbe.StatusAsync(node))?.Revision ?? 0);
        await watch.StopAtAsync(finalRevisions, TimeSpan.FromSeconds(60));
        await keyWatch.StopAtAsync(keyWatch.Started.ToDictionary(p => p.Key, p => finalRevisions[p.Key]), TimeSpan.FromSeconds(60));
        int? PlacedBy(HistoryOperation write) => write.Leader is { } leader ? positionOf[leader] : null;
        var watched = watch.Events.ToList();
        var keyWatched = keyWatch.Events.ToList();
        var watchViolations = WatchChecker.Check(watched, workload.History, watch.Started, PlacedBy)
            .Concat(WatchChecker.CheckProgress(watched, watch.Answers, watch.Requests, workload.History, watch.Started, PlacedBy))
            .Concat(WatchChecker.Check(keyWatched, workload.History.Where(o => o.Key == traveller), keyWatch.Started, PlacedBy))
            .ToList();
        var disagreements = Enumerable.Range(0, 3).SelectMany(p => ReplicaAgreement.Check(topology, p).Disagreements).ToList();
        output.WriteLine($"{workload.History.Count} operations, {workload.Acknowledged} writes acknowledged, {answered.Count} answers naming their leader; " +
                         $"{resumed} moves taken on by a new leader of their giver, as the consoles saw; watches: {watched.Count} events of positions " +
                         $"{string.Join(", ", watch.Started.Keys.Order())}, {keyWatched.Count} of {traveller} from positions " +
                         $"{string.Join(", ", keyWatched.Select(e => e.Position).Distinct())}, {watchViolations.Count} violations");
        foreach (var entry in cluster.LoggedErrors().Take(20))
            output.WriteLine(entry);
        output.WriteLine($"leases: {leases.Lapsed} lapsed, {leases.Violations.Count} early; the probe's kept lease {(leases.KeptHeld ? "held" : "lost")}, " +
                         $"the travelling one {(travelling.Lost.IsCancellationRequested ? "lost" : "held")}, the crossing one {(crossing.Lost.IsCancellationRequested ? "lost" : "held")} {string.Join(", ", lost)}");
        Assert.True(workload.Violations.IsEmpty, string.Join(Environment.NewLine, workload.Violations.Take(20)));
        Assert.True(leases.Violations.IsEmpty, string.Join(Environment.NewLine, leases.Violations.Take(20)));
        Assert.True(leases.Lapsed > 0, "no lease was seen to lapse");
        Assert.True(leases.KeptHeld && !travelling.Lost.IsCancellationRequested && !crossing.Lost.IsCancellationRequested, "a lease kept alive was lost");
        Assert.True(verdict.IsLinearizable, $"{verdict.Key}: {verdict.Explanation}");
        Assert.True(revisionViolations.Count == 0, string.Join(Environment.NewLine, revisionViolations));
        Assert.True(watchViolations.Count == 0, string.Join(Environment.NewLine, watchViolations));
        // The key's watch again, from where it started, naming position 0 alone, through a node whose ring gives
        // the key to position 0: it must follow the key through the four changes and see the same events.
        var replayed = await ReplayAsync(traveller, new Dictionary<int, long> { [0] = keyWatch.Started[0] }, keyWatched.Count);
        Assert.Equal(keyWatched.Select(Shown), replayed.Select(Shown));
        // And from just before its first event at position 1, naming position 1 alone, which the ring no longer
        // gives it: position 0 took the key from position 1 since, so it must be followed from that handover,
        // not watched from now.
        var fromPosition1 = keyWatched.SkipWhile(e => e.Position != 1).ToList();
        var fromThere = await ReplayAsync(traveller, new Dictionary<int, long> { [1] = fromPosition1[0].Revision - 1 }, fromPosition1.Count);
        Assert.Equal(fromPosition1.Select(Shown), fromThere.Select(Shown));
        Assert.Equal([0, 1, 2], watch.Started.Keys.Order());
        Assert.Equal([0, 1, 2], keyWatched.Where(e => e.Revision > 0).Select(e => e.Position).Distinct().Order());
        Assert.True(disagreements.Count == 0, string.Join(Environment.NewLine, disagreements.Take(10)));

        // Every key at exactly the position the final layout names: its replica answers it without a hop, the other position's with one.
        final = final with { Epoch = epoch };
        Assert.Contains(still, k => first.Ring().OwnerOfKey(k) == 1 && final.Ring().OwnerOfKey(k) == 0);
        var replicas = Enumerable.Range(0, 2).Select(p => GrpcChannel.ForAddress(topology.Nodes.First(n => n.Position == p).GrpcUrl)).ToArray();
        try
        {
            foreach (var key in still)
            {
                var owner = final.Ring().OwnerOfKey(key);
                var atOwner = await new KeyValue.KeyValueClient(replicas[owner]).ReadAsync(new ReadRequest { Key = key });
                var elsewhere = await new KeyValue.KeyValueClient(replicas[1 - owner]).ReadAsync(new ReadRequest { Key = key });
                Assert.Equal((key, 0, 1), (atOwner.Value.ToStringUtf8(), atOwner.Hops, elsewhere.Hops));
            }
        }
        finally
        {
            foreach (var channel in replicas)
                channel.Dispose();
        }
        Assert.Equal(still.Count, (await client.ListAllAsync("m-")).Items.Count);
        Assert.Equal(FrozenRangeKeys, (await client.ListAllAsync("s-")).Items.Count);

        // Both leases at position 0, with their keys, by their ids (the crossing one's names position 1, which sends the call on).
        Assert.Equal([travellingKey], (await client.LeaseTimeToLiveAsync(travelling.Id)).Keys);
        Assert.Equal([crossingKey], (await client.LeaseTimeToLiveAsync(crossing.Id)).Keys);
        await client.RevokeLeaseAsync(crossing.Id);
        await client.RevokeLeaseAsync(travelling.Id);
        await Assert.ThrowsAsync<KvKeyNotFoundException>(() => client.ReadAsync(crossingKey));
        await Assert.ThrowsAsync<KvKeyNotFoundException>(() => client.ReadAsync(travellingKey));

        // A lease the next move would split (its key moves, another of its keys stays): the giver does not take the fence, and the ring stays as it was.
        var leased = still.First(k => final.Ring().OwnerOfKey(k) == 0 && ringAfterFirst.OwnerOfKey(k) == 1);
        var anchor = still.First(k => final.Ring().OwnerOfKey(k) == 0 && ringAfterFirst.OwnerOfKey(k) == 0);
        var lease = await client.GrantLeaseAsync(TimeSpan.FromMinutes(1), leased);
        await client.UpdateAsync(leased, "held"u8.ToArray(), null, lease.Id);
        await client.UpdateAsync(anchor, "held"u8.ToArray(), null, lease.Id);
        var refused = await ClientProcess.RunAsync(["--cluster", topology.Path, "ring", "move", "1", $"0x{Up:x}"]);
        Assert.Equal(ExitCodes.OperationFailed, refused.ExitCode);
        Assert.Contains($"lease {lease.Id} lives with key '{leased}' and holds key '{anchor}' on the other side", refused.Errors);
        Assert.Contains("(the ring is as it was)", refused.Errors);
        Assert.Equal("held", (await client.ReadAsync(leased)).Text);
        Assert.Equal(still.Count, (await client.ListAllAsync("m-")).Items.Count);
        var after = await RingAsync();
        Assert.Equal(epoch, Epoch(after));
        // Following a move that is over is done at once; one never fenced, at an epoch the ring has not reached, is refused.
        using (var toNode = GrpcChannel.ForAddress(serving[1].GrpcUrl))
        {
            var admin = new Admin.AdminClient(toNode);
            var over = await admin.FollowMove(new FollowMoveRequest { Giver = 1, Epoch = 2 }).ResponseStream.ReadAllAsync().ToListAsync();
            Assert.Equal(["done"], over.Select(p => p.Step));
            var never = await Assert.ThrowsAsync<RpcException>(async () =>
                await admin.FollowMove(new FollowMoveRequest { Giver = 0, Epoch = epoch + 1 }).ResponseStream.ReadAllAsync().ToListAsync());
            Assert.Equal(StatusCode.FailedPrecondition, never.StatusCode);
            Assert.Contains($"position 0 holds no move to ring epoch {epoch + 1} and the ring is at epoch {epoch}", never.Status.Detail);
        }
        Assert.Contains("spares  p2r0 (position 2)", after);
        Assert.Contains($"position 1  id 0x{Down:x}", after);

        // The same change asked again while the first is under way: a follower of the giver is frozen too, so the
        // move stalls (no quorum) until the second console has made its plan from the layout before the move;
        // thawed, the giver's next leader finishes the move, and the second console waits for it (the move held,
        // or the giver's claim past that layout), then finds nothing to do.
        async Task<ClientRun> AskAgainWhileStalledAsync(Change change, TestNode leader)
        {
            var follower = topology.ReplicasOf(leader.Position).First(n => n != leader);
            await cluster.PauseAsync(follower);
            using var again = ClientProcess.Start(["--cluster", topology.Path, "ring", .. change.Arguments]);
            await Wait.UntilAsync(() => again.ErrorLines.Any(l => l.StartsWith("plan:", StringComparison.Ordinal)), TimeSpan.FromSeconds(30),
                $"{string.Join(' ', change.Arguments)} asked again to make its plan");
            await cluster.ResumeAsync(follower);
            return await again.WaitForExitAsync(TimeSpan.FromMinutes(2));
        }

        async Task<string> RingAsync() => (await ClientProcess.RunAsync(["--cluster", topology.Path, "ring"])).Output;

        async Task<List<KvEvent>> ReplayAsync(string key, IReadOnlyDictionary<int, long> after, int count)
        {
            var seen = new List<KvEvent>();
            using var until = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await foreach (var change in client.WatchAsync(key, new KvWatchOptions { After = after }, until.Token))
                {
                    if (change.Kind != KvEventKind.Progress)
                        seen.Add(change);
                    if (seen.Count == count)
                        break;
                }
            }
            catch (OperationCanceledException) when (until.IsCancellationRequested)
            {
                Assert.Fail($"the watch of {key} from {string.Join(", ", after)} saw {seen.Count} of {count} events in 60 s: last {seen.Select(Shown).LastOrDefault()}");
            }
            return seen;
        }
    }

    private static string Shown(KvEvent change) => $"{change.Kind} {change.Key} '{change.Text}' at position {change.Position} revision {change.Revision}";

    private static long Epoch(string ring) => long.Parse(Regex.Match(ring, @"ring epoch (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
}
