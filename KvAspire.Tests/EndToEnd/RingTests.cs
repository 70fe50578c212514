using Grpc.Core;
using KvAspire.Client.Commands;
using KvAspire.Driver;
using KvAspire.Driver.Transport;
using KvAspire.Node.Ring;
using KvAspire.Operations;
using KvAspire.Routing;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>A ring of 8 real node processes, one per position: routing, ownership, a position down.</summary>
[Trait("Category", "EndToEnd")]
public sealed class RingTests : IAsyncLifetime
{
    private const int Positions = 8;

    private readonly TempDirectory _directory = new();
    private readonly OtlpTraceReceiver _traces = new();
    private readonly RingMath _ring = new(64, Positions, placementTags: true);
    private TestTopology _topology = null!;
    private NodeProcess[] _nodes = [];
    private KvConnection[] _connections = [];

    public async Task InitializeAsync()
    {
        _topology = TestTopology.Ring(_directory, Positions, placementTags: true);
        _nodes = await LocalCluster.StartAllAsync(_topology, _topology.Nodes, n => _traces.EnvironmentFor(n.Name));
        _connections = _topology.Nodes.Select(n => new KvConnection([n.GrpcEndPoint], TimeSpan.FromSeconds(10))).ToArray();
        // Every node answers for every position before a test begins: a node just started compiles its request and
        // forwarding paths on first use, which on a loaded machine outlasted a client's 2 s attempt (CI: a first create
        // through the ring timed out after 10 s).
        var probes = Enumerable.Range(0, 4 * Positions).Select(i => $"<probe-{i}>").ToList();
        await Wait.UntilAsync(async () =>
        {
            foreach (var connection in _connections)
                foreach (var key in probes)
                    if ((await connection.ExecuteAsync(Read(key))).Status != StatusCode.NotFound)
                        return false;
            return true;
        }, TimeSpan.FromSeconds(60), "every node answering for every position");
    }

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
            connection.Dispose();
        await Task.WhenAll(_nodes.Select(n => n.DisposeAsync().AsTask()));
        _traces.Dispose();
        _directory.Dispose();
    }

    /// <summary>The positions the routing simulation predicts a request visits, from <paramref name="start"/> to <paramref name="owner"/>.</summary>
    private static List<int> ExpectedRoute(int start, int owner)
    {
        var route = new List<int> { start };
        for (var at = start; at != owner; route.Add(at))
            at = new FingerTable(at, new RingMath(64, Positions)).NextHop(owner);
        return route;
    }

    private static int ExpectedHops(int start, int owner) => ExpectedRoute(start, owner).Count - 1;

    private static ConsoleCommand Create(string key, string value) => new(OperationKind.Create, key, value);

    private static ConsoleCommand Read(string key) => new(OperationKind.Read, key);

    [Fact]
    public async Task Every_key_is_served_through_every_node_with_the_predicted_hops_and_stored_only_on_its_owner()
    {
        var keys = Enumerable.Range(0, 48).Select(i => $"<ring-key-{i}>").ToList();
        for (var i = 0; i < keys.Count; i++)
        {
            var created = await _connections[i % Positions].ExecuteAsync(Create(keys[i], $"value {i}"));
            Assert.True(created.IsOk, $"{keys[i]}: {created.Status} {created.Error}");
            Assert.Equal(ExpectedHops(i % Positions, _ring.OwnerOfKey(keys[i])), created.Hops);
        }

        foreach (var key in keys)
        {
            var owner = _ring.OwnerOfKey(key);
            for (var start = 0; start < Positions; start++)
            {
                var read = await _connections[start].ExecuteAsync(Read(key));
                Assert.True(read.IsOk, $"{key} through p{start}r0: {read.Status} {read.Error}");
                Assert.Equal(ExpectedHops(start, owner), read.Hops);
                // Whichever node was asked, the answer names the owner's leader (its only node here).
                Assert.Equal(_topology.Nodes[owner].GrpcEndPoint, read.Leader);
            }
        }
        Assert.Contains(keys, k => Enumerable.Range(0, Positions).Any(start => ExpectedHops(start, _ring.OwnerOfKey(k)) == 2));

        // The client library, given one node, learns the ring from the cluster (its first call asks for the
        // layout); then it goes straight to the leader an answer named: no hop, though it was given no other node.
        using (var client = new KvClient(new KvClientOptions { Nodes = [_topology.Nodes[0].GrpcEndPoint] }))
        {
            var farKey = keys.First(k => ExpectedHops(0, _ring.OwnerOfKey(k)) > 0);
            Assert.True((await client.ReadAsync(farKey)).Hops > 0);
            await Wait.UntilAsync(async () => (await client.ReadAsync(farKey)).Hops == 0, TimeSpan.FromSeconds(10),
                "a read of a far key straight from its owner");
            var direct = await client.ReadAsync(farKey);
            Assert.Equal(0, direct.Hops);
            Assert.Equal(NodeChannels.Plaintext.Address(_topology.Nodes[_ring.OwnerOfKey(farKey)].GrpcEndPoint), direct.Node);
        }

        foreach (var key in keys)
            Assert.Equal([_topology.Nodes[_ring.OwnerOfKey(key)]], _topology.NodesWhoseLogsContain(key));
    }

    [Fact]
    public async Task Keys_that_share_a_tag_live_on_one_position_and_a_client_that_learned_the_ring_goes_straight_there()
    {
        // This ring places by tags: only the part in braces is hashed, so the three keys share a position
        // that hashing each whole key would not give them all.
        string[] keys = ["{basket-7}:items", "{basket-7}:owner", "orders:{basket-7}"];
        var owner = _ring.OwnerOfKey("basket-7");
        Assert.All(keys, key => Assert.Equal(owner, _ring.OwnerOfKey(key)));
        Assert.Contains(keys, key => new RingMath(64, Positions).OwnerOfKey(key) != owner);

        using var client = new KvClient(new KvClientOptions { Nodes = [_topology.Nodes[(owner + 1) % Positions].GrpcEndPoint] });
        foreach (var key in keys)
            await client.CreateAsync(key, $"value of {key}");
        await Wait.UntilAsync(async () => (await client.ReadAsync(keys[0])).Hops == 0, TimeSpan.FromSeconds(10),
            "a read of a tagged key straight from its owner, once the client has learned the ring");
        foreach (var key in keys)
        {
            var read = await client.ReadAsync(key);
            Assert.Equal((0, NodeChannels.Plaintext.Address(_topology.Nodes[owner].GrpcEndPoint)), (read.Hops, read.Node));
            Assert.Equal([_topology.Nodes[owner]], _topology.NodesWhoseLogsContain(key));
        }
    }

    [Fact]
    public async Task A_transaction_runs_on_its_tag_s_position_from_any_node_and_one_whose_keys_span_positions_is_refused_naming_them()
    {
        var owner = _ring.OwnerOfKey("cart-3");
        var elsewhere = Enumerable.Range(0, 1000).Select(i => $"elsewhere-{i}").First(key => _ring.OwnerOfKey(key) != owner);
        // Not routed by the client: the node it calls forwards the transaction to its position.
        using var client = new KvClient(new KvClientOptions { Nodes = [_topology.Nodes[(owner + 3) % Positions].GrpcEndPoint], RouteToLeaders = false });
        KvTransaction Fill() => new KvTransaction().IfMissing("{cart-3}items").ThenPut("{cart-3}items", "2").ThenPut("{cart-3}total", "30").ElseRead("{cart-3}total");

        var made = await client.TxnAsync(Fill());
        var again = await client.TxnAsync(Fill());
        var spanning = await Assert.ThrowsAsync<KvException>(() =>
            client.TxnAsync(new KvTransaction().ThenPut("{cart-3}items", "changed").ThenPut(elsewhere, "x")));

        Assert.True(made.Succeeded);
        Assert.True(made.Hops > 0, "forwarded from a node of another position");
        Assert.Equal(made.Revision, Assert.Single(made.Results.Select(r => r.Revisions.Modify).Distinct()));
        Assert.False(again.Succeeded);
        Assert.Equal(("30", made.Revision), (again.Results.Single().Text, again.Results.Single().Revisions.Modify));
        Assert.Equal(StatusCode.InvalidArgument, spanning.Status);
        Assert.Contains($"positions {Math.Min(owner, _ring.OwnerOfKey(elsewhere))}, {Math.Max(owner, _ring.OwnerOfKey(elsewhere))}", spanning.Message);
        Assert.Equal("2", (await client.ReadAsync("{cart-3}items")).Text);
        await Assert.ThrowsAsync<KvKeyNotFoundException>(() => client.ReadAsync(elsewhere));
    }

    [Fact]
    public async Task A_list_gathers_every_position_in_key_order_page_by_page_and_each_position_s_part_is_linearizable_under_writers()
    {
        var keys = Enumerable.Range(0, 40).Select(i => $"list/{i:D2}").ToList();
        using var client = new KvClient(new KvClientOptions { Nodes = [.. _topology.Nodes.Select(n => n.GrpcEndPoint)] });
        foreach (var key in keys)
            await client.CreateAsync(key, "0");
        await client.CreateAsync("lisT/not-under-the-prefix", "x");
        Assert.True(keys.Select(_ring.OwnerOfKey).Distinct().Count() > 4, "the keys spread over the ring");

        // Pages of 7 through the API itself, from a node of one position.
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress($"http://{_topology.Nodes[3].GrpcEndPoint}");
        var api = new KvAspire.V1.KeyValue.KeyValueClient(channel);
        var pages = new List<KvAspire.V1.ListReply>();
        do
            pages.Add(await api.ListAsync(new KvAspire.V1.ListRequest { Prefix = "list/", Limit = 7, PageToken = pages.LastOrDefault()?.NextPageToken ?? Google.Protobuf.ByteString.Empty }));
        while (!pages[^1].NextPageToken.IsEmpty);
        var listed = pages.SelectMany(p => p.Items).ToList();
        Assert.Equal(keys, listed.Select(item => item.Key));
        Assert.All(pages.SkipLast(1), page => Assert.Equal(7, page.Items.Count));
        Assert.All(listed, item => Assert.Equal(_ring.OwnerOfKey(item.Key), item.Position));
        Assert.All(pages, page => Assert.Equal(Enumerable.Range(0, Positions), page.ReadAt.Select(r => r.Position)));
        Assert.All(pages, page => Assert.All(page.Items, item => Assert.InRange(item.ModRevision, 2, page.ReadAt[item.Position].Revision)));

        // Writers count each key up; a list must show every key at least at its count acknowledged before the
        // list was called, and at most at the count last sent before it returned.
        var acknowledged = new long[keys.Count];
        var sent = new long[keys.Count];
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            for (var round = 1; !stop.IsCancellationRequested; round++)
            {
                for (var k = writer; k < keys.Count; k += 4)
                {
                    Volatile.Write(ref sent[k], round);
                    await client.UpdateAsync(keys[k], $"{round}");
                    Volatile.Write(ref acknowledged[k], round);
                }
            }
        })).ToArray();
        for (var list = 0; list < 15; list++)
        {
            var floor = Enumerable.Range(0, keys.Count).Select(k => Volatile.Read(ref acknowledged[k])).ToArray();
            var items = await client.ListAsync("list/").ToListAsync();
            var ceiling = Enumerable.Range(0, keys.Count).Select(k => Volatile.Read(ref sent[k])).ToArray();
            Assert.Equal(keys, items.Select(item => item.Key));
            for (var k = 0; k < keys.Count; k++)
                Assert.InRange(long.Parse(items[k].Text), floor[k], ceiling[k]);
        }
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        Assert.True(acknowledged.Min() > 1, "every key was written during the lists");
    }

    [Fact]
    public async Task A_prefix_watch_at_one_node_relays_every_position_s_changes_each_once_in_revision_order_across_a_position_s_restart()
    {
        const int down = 5;
        var keys = Enumerable.Range(0, 40).Select(i => $"watch/{i:D2}").ToList();
        Assert.Contains(keys, key => _ring.OwnerOfKey(key) == down);
        using var writer = new KvClient(new KvClientOptions { Nodes = [.. _topology.Nodes.Select(n => n.GrpcEndPoint)] });
        using var watcher = new KvClient(new KvClientOptions { Nodes = [_topology.Nodes[3].GrpcEndPoint] });
        using var stop = new CancellationTokenSource();
        var seen = new System.Collections.Concurrent.ConcurrentQueue<KvEvent>();
        var watching = Task.Run(async () =>
        {
            await foreach (var change in watcher.WatchAsync("watch/", new KvWatchOptions { Prefix = true, ProgressNotices = true }, stop.Token))
                seen.Enqueue(change);
        });
        await Wait.UntilAsync(() => seen.Select(change => change.Position).Distinct().Count() == Positions || watching.IsCompleted,
            TimeSpan.FromSeconds(30), "every position's start");

        var acknowledged = new List<(int Position, long Revision, string Key, string Value)>();
        foreach (var key in keys)
            acknowledged.Add((_ring.OwnerOfKey(key), (await writer.CreateAsync(key, "0")).Revisions.Modify, key, "0"));
        await writer.CreateAsync("watcH/not-under-the-prefix", "x");
        await _nodes[down].KillAsync();
        _nodes[down] = await NodeProcess.StartAsync(_topology, _topology.Nodes[down]);
        foreach (var key in keys)
            acknowledged.Add((_ring.OwnerOfKey(key), (await writer.UpdateAsync(key, "1")).Revisions.Modify, key, "1"));

        await Wait.UntilAsync(() => seen.Count(change => change.Kind == KvEventKind.Put) >= acknowledged.Count || watching.IsCompleted,
            TimeSpan.FromSeconds(60), "an event for every write");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);

        var events = seen.Where(change => change.Kind == KvEventKind.Put).ToList();
        for (var position = 0; position < Positions; position++)
        {
            Assert.Equal(acknowledged.Where(write => write.Position == position).Select(write => (write.Revision, write.Key, write.Value)),
                events.Where(change => change.Position == position).Select(change => (change.Revision, change.Key, change.Text)));
        }
        // Each position's notices never go back, and none passes an event of its position not yet sent.
        Assert.All(seen.GroupBy(change => change.Position), position =>
            Assert.Equal(position.Select(change => change.Revision).Order(), position.Select(change => change.Revision)));
    }

    [Fact]
    public async Task A_request_that_crosses_2_positions_is_one_trace_with_a_span_on_each_of_the_3_nodes()
    {
        var (key, start, owner) = Enumerable.Range(0, 1000).Select(i => $"traced-{i}")
            .SelectMany(k => Enumerable.Range(0, Positions).Select(s => (Key: k, Start: s, Owner: _ring.OwnerOfKey(k))))
            .First(c => ExpectedHops(c.Start, c.Owner) == 2);
        var middle = new FingerTable(start, new RingMath(64, Positions)).NextHop(owner);

        var created = await _connections[start].ExecuteAsync(Create(key, "traced"));
        Assert.Equal(2, created.Hops);

        // The first node's forward span names the trace; wait until all three nodes have exported theirs.
        string? traceId = null;
        await Wait.UntilAsync(() =>
        {
            traceId ??= _traces.Spans.FirstOrDefault(s => s.Service == $"p{start}r0" && s.Name == "forward create")?.TraceId;
            var spans = _traces.Spans.Where(s => s.TraceId == traceId).ToList();
            return spans.Any(s => s.Service == $"p{owner}r0" && s.Name == "apply create") &&
                   spans.All(s => s.ParentSpanId.Length == 0 || spans.Any(p => p.SpanId == s.ParentSpanId));
        }, TimeSpan.FromSeconds(30), "the spans of the traced request");

        var trace = _traces.Spans.Where(s => s.TraceId == traceId).ToList();
        var servers = trace.Where(s => s.Name.EndsWith("/kvaspire.v1.KeyValue/Create", StringComparison.Ordinal)).ToList();
        Assert.Equal(new[] { start, middle, owner }.Select(p => $"p{p}r0").Order(), servers.Select(s => s.Service).Order());
        var forwards = trace.Where(s => s.Name == "forward create").OrderBy(s => s.Attributes["kvaspire.hop"]).ToList();
        Assert.Equal([$"p{start}r0", $"p{middle}r0"], forwards.Select(f => f.Service));
        Assert.All(forwards, f => Assert.Equal(owner.ToString(), f.Attributes["kvaspire.owner_position"]));
        Assert.Equal(["1", "2"], forwards.Select(f => f.Attributes["kvaspire.hop"]));
        Assert.Equal(_ring.KeyId(key).ToString("x16"), forwards[0].Attributes["kvaspire.key_id"]);
        Assert.Single(trace, s => s.ParentSpanId.Length == 0);
        Assert.All(trace.Where(s => s.ParentSpanId.Length > 0), s => Assert.Contains(trace, p => p.SpanId == s.ParentSpanId));
    }

    [Fact]
    public async Task Updates_and_deletes_through_any_node_reach_the_owner()
    {
        const string key = "moving-target";
        var owner = _ring.OwnerOfKey(key);
        var others = Enumerable.Range(0, Positions).Where(p => p != owner).ToList();

        Assert.True((await _connections[others[0]].ExecuteAsync(Create(key, "v1"))).IsOk);
        var updated = await _connections[others[1]].ExecuteAsync(new ConsoleCommand(OperationKind.Update, key, "v2", 1));
        var stale = await _connections[others[2]].ExecuteAsync(new ConsoleCommand(OperationKind.Update, key, "v3", 1));
        var read = await _connections[owner].ExecuteAsync(Read(key));
        var deleted = await _connections[others[3]].ExecuteAsync(new ConsoleCommand(OperationKind.Delete, key, null, 2));
        var gone = await _connections[others[4]].ExecuteAsync(Read(key));

        Assert.Equal(2, updated.Version);
        Assert.Equal(StatusCode.FailedPrecondition, stale.Status);
        Assert.Contains("is at version 2, not 1", stale.Error);
        Assert.Equal(("v2", 2L, 0), (read.Text, read.Version, read.Hops));
        Assert.True(deleted.IsOk);
        Assert.Equal(StatusCode.NotFound, gone.Status);
    }

    [Fact]
    public async Task A_position_that_is_down_fails_its_keys_cleanly_and_has_them_again_after_restart()
    {
        const int down = 5;
        var keys = Enumerable.Range(0, 200).Select(i => $"restart-{i}").ToList();
        foreach (var key in keys)
        {
            var created = await _connections[0].ExecuteAsync(Create(key, key));
            Assert.True(created.IsOk, $"create {key}: {created.Status} {created.Error}");
        }
        var itsKeys = keys.Where(k => _ring.OwnerOfKey(k) == down).ToList();
        var otherKeys = keys.Where(k => _ring.OwnerOfKey(k) != down).ToList();
        Assert.NotEmpty(itsKeys);

        await _nodes[down].KillAsync();
        for (var start = 0; start < Positions; start++)
        {
            if (start == down)
                continue;
            var started = DateTime.UtcNow;
            var failed = await _connections[start].ExecuteAsync(Read(itsKeys[0]));
            Assert.Equal(StatusCode.Unavailable, failed.Status);
            Assert.Contains($"position {down}", failed.Error);
            Assert.Contains($"p{down}r0 at ", failed.Error);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "a forward to a node that is down must not hang");
        }
        var ring = await ClientProcess.RunAsync(["--cluster", _topology.Path, "ring"]);
        Assert.Equal(0, ring.ExitCode);
        for (var position = 0; position < Positions; position++)
            Assert.Contains($"p{position}r0 {_topology.Nodes[position].GrpcEndPoint} {(position == down ? "DOWN" : "leader")}", ring.Output);
        var whereIs = await ClientProcess.RunAsync(["--cluster", _topology.Path, "whereis", itsKeys[0]]);
        Assert.Contains($"owner position {down}: p{down}r0", whereIs.Output);

        // Keys of the other positions are still served, except along routes that pass through the down node.
        foreach (var key in otherKeys.Where(k => !ExpectedRoute(0, _ring.OwnerOfKey(k)).Contains(down)))
            Assert.True((await _connections[0].ExecuteAsync(Read(key))).IsOk, key);

        _nodes[down] = await NodeProcess.StartAsync(_topology, _topology.Nodes[down]);
        foreach (var key in itsKeys)
        {
            var read = await _connections[(down + 1) % Positions].ExecuteAsync(Read(key));
            Assert.True(read.IsOk, $"{key}: {read.Status} {read.Error}");
            Assert.Equal(key, read.Text);
        }
    }
}
