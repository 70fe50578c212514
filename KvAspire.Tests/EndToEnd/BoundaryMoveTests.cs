using System.Collections.Concurrent;
using Grpc.Net.Client;
using KvAspire.Cluster;
using KvAspire.Driver;
using KvAspire.Routing;
using KvAspire.Client.Shell;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// Changes of a ring of 2 positions × 3 replicas (and a third position's spares), each run by the console
/// while clients keep updating keys: position 1's ring id moves up (position 0 gives it the keys between),
/// then down past where it started (position 1 gives keys to position 0); position 2 joins at the middle of
/// the widest arc (taking its keys from position 0), then leaves again (giving them back). No acknowledged
/// update is lost, every key is served afterwards by the position the final layout names (answered without
/// a hop by its replica), and each giver dropped what it gave. A move whose range holds a key attached to
/// a lease is given up: the ring stays as it was, one epoch on.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(NemesisCollection.Name)]
public sealed class BoundaryMoveTests : IDisposable
{
    private const int ClaimApplied = 39;
    private const int UnclaimedDropped = 41;
    private const int Writers = 4;
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Keys_change_hands_under_writes_with_nothing_lost_and_each_served_by_its_new_owner()
    {
        var topology = TestTopology.Ring(_directory, positions: 2, replicas: 3, spares: 1);
        await using var cluster = await LocalCluster.StartAsync(topology);
        // The serving nodes, as the connection string of the Aspire integration names them: a spare may not run.
        using var client = new KvClient(topology.ClientOptions(topology.Nodes.Where(n => n.Position < 2)));
        var first = RingLayout.Of(TopologyLoader.Load(topology.Path));
        const ulong up = 0xBFFF_FFFF_FFFF_FFFFUL, down = 0x3FFF_FFFF_FFFF_FFFFUL;
        var keys = Enumerable.Range(0, 240).Select(i => $"m-{i}").ToList();
        // Every group's first claim committed (a move needs one), then the keys created a few at a time: 240 at
        // once into a ring just started on a loaded machine (CI) timed one out.
        await Wait.UntilAsync(() => topology.Nodes.All(n => cluster.LoggedEvent(n, ClaimApplied)), TimeSpan.FromSeconds(30), "every group's first claim");
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = Writers },
            async (key, _) => await client.CreateAsync(key, "0"));

        // Each writer updates its own keys in turn: the last value acknowledged per key, and the one attempted after it, if any.
        var acknowledged = new ConcurrentDictionary<string, int>(keys.ToDictionary(k => k, _ => 0));
        var unsure = new ConcurrentDictionary<string, int>();
        var acknowledgedDuringMoves = 0;
        var moving = false;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var mine = keys.Where((_, i) => i % Writers == w).ToList();
            for (var round = 1; !stop.IsCancellationRequested; round++)
            {
                foreach (var key in mine.Take(12))
                {
                    try
                    {
                        await client.UpdateAsync(key, $"{round}");
                        acknowledged[key] = round;
                        unsure.TryRemove(key, out _);
                        if (Volatile.Read(ref moving))
                            Interlocked.Increment(ref acknowledgedDuringMoves);
                    }
                    catch (KvException)
                    {
                        unsure[key] = round;
                    }
                }
                mine = [.. mine.Skip(12), .. mine.Take(12)];
            }
        })).ToArray();

        Volatile.Write(ref moving, true);
        Assert.Matches(@"copy: [1-9]\d* of [1-9]\d* keys", (await ChangeAsync("move", "1", $"0x{up:x}", "epoch 2:", "position 0 gave")).Errors);
        await ChangeAsync("move", "1", $"0x{down:x}", "epoch 3:", "position 1 gave");
        var joined = await ChangeAsync("add-position", "2", null, "epoch 4:", "position 2 joins at ring id 0x9fffffffffffffff");
        Assert.Matches("position 0 gave [1-9][0-9]* keys", joined.Output);
        await ChangeAsync("remove-position", "2", null, "epoch 5:", "position 2 leaves");
        Volatile.Write(ref moving, false);
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        Assert.True(acknowledgedDuringMoves > 0, "no update was acknowledged while the ring moved");

        var final = first with { Epoch = 5, PositionIds = [first.PositionIds[0], down] };
        Assert.Contains(keys, k => first.Ring().OwnerOfKey(k) == 1 && final.Ring().OwnerOfKey(k) == 0);
        var replicas = Enumerable.Range(0, 2).Select(p => GrpcChannel.ForAddress(topology.Nodes.First(n => n.Position == p).GrpcUrl)).ToArray();
        try
        {
            foreach (var key in keys)
            {
                var owner = final.Ring().OwnerOfKey(key);
                var read = await new KeyValue.KeyValueClient(replicas[owner]).ReadAsync(new ReadRequest { Key = key });
                Assert.Equal(0, read.Hops);
                var value = int.Parse(read.Value.ToStringUtf8());
                Assert.True(value == acknowledged[key] || unsure.TryGetValue(key, out var tried) && value == tried,
                    $"{key} on position {owner} is {value}; acknowledged {acknowledged[key]}{(unsure.TryGetValue(key, out var t) ? $", then tried {t}" : "")}");
            }
        }
        finally
        {
            foreach (var channel in replicas)
                channel.Dispose();
        }
        await Wait.UntilAsync(() => topology.Nodes.All(n => cluster.LoggedEvent(n, UnclaimedDropped)), TimeSpan.FromSeconds(10), "every replica's drop of what it gave");
        Assert.Contains("ring epoch 5", (await ClientProcess.RunAsync(["--cluster", topology.Path, "ring"])).Output);
        Assert.Equal(keys.Count, (await client.ListAllAsync("m-")).Items.Count);

        // A key of the next move's range held by a lease: the move is given up, the ring as it was, one epoch on.
        var leased = keys.First(k => final.Ring().OwnerOfKey(k) == 0 && first.Ring().OwnerOfKey(k) == 0 && new RingMath(64, [first.PositionIds[0], up]).OwnerOfKey(k) == 1);
        var lease = await client.GrantLeaseAsync(TimeSpan.FromMinutes(1), leased);
        await client.UpdateAsync(leased, "held"u8.ToArray(), null, lease.Id);
        var refused = await ClientProcess.RunAsync(["--cluster", topology.Path, "ring", "move", "1", $"0x{up:x}"]);
        Assert.Equal(ExitCodes.OperationFailed, refused.ExitCode);
        Assert.Contains($"key '{leased}' to lease {lease.Id}", refused.Errors);
        Assert.Contains("the move was given up, the ring is as it was, at epoch 6", refused.Errors);
        Assert.Equal("held", (await client.ReadAsync(leased)).Text);
        Assert.Equal(keys.Count, (await client.ListAllAsync("m-")).Items.Count);
        var ring = await ClientProcess.RunAsync(["--cluster", topology.Path, "ring"]);
        Assert.Contains("ring epoch 6", ring.Output);
        Assert.Contains("spares  p2r0 (position 2)", ring.Output);
        Assert.Contains($"id 0x{down:x}", ring.Output);
        var errors = cluster.LoggedErrors().ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));

        async Task<ClientRun> ChangeAsync(string verb, string position, string? ringId, string epoch, string done)
        {
            var run = await ClientProcess.RunAsync(["--cluster", topology.Path, "ring", verb, position, .. ringId is null ? Array.Empty<string>() : [ringId]]);
            Assert.True(run.ExitCode == 0, run.Output + run.Errors);
            Assert.Contains(epoch, run.Output);
            Assert.Contains(done, run.Output);
            return run;
        }
    }
}
