using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Grpc.Core;
using KvAspire.Client.Commands;
using KvAspire.Driver.Transport;
using KvAspire.Operations;
using KvAspire.Routing;
using KvAspire.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace KvAspire.Tests.Topology;

/// <summary>
/// A ring of 2 positions × 3 replicas and the sample service started by the AppHost under Aspire testing:
/// every node serves every key; the sample's counters, through the client integration, lose no increment
/// and one request to it is one trace from the sample through the client library into the nodes; a leader
/// stopped from Aspire is replaced and writes go on, and once back it catches up; a position that loses
/// its quorum shows not ready while the other stays ready.
/// </summary>
[Trait("Category", "Aspire")]
[Collection(AspireCollection.Name)]
public sealed class AppHostTests : IDisposable
{
    private const int Positions = 2;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan ElectionTimeout = TimeSpan.FromSeconds(30);

    private readonly Support.TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Without_a_cluster_file_argument_the_apphost_adds_the_repositorys_cluster_json_and_the_sample()
    {
        using var cancel = new CancellationTokenSource(StartTimeout);

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.KvAspire_AppHost>([], cancel.Token);

        var cluster = Assert.Single(builder.Resources.OfType<KvAspireClusterResource>());
        Assert.Equal(Paths.RepositoryFile("cluster.json"), cluster.ClusterFile);
        Assert.All(cluster.Topology.Nodes, node => Assert.Contains(builder.Resources, r => r.Name == node.Name));
        Assert.Contains(builder.Resources, r => r.Name == "sample");
    }

    [Fact]
    public async Task A_replicated_ring_and_the_sample_start_under_aspire_serve_trace_survive_a_leader_stop_and_report_readiness()
    {
        using var traces = new OtlpTraceReceiver();
        var topology = TestTopology.Ring(_directory, Positions, replicas: 3);
        var ring = new RingMath(64, Positions);
        using var cancel = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.KvAspire_AppHost>(
            [$"--ClusterFile={topology.Path}"], cancel.Token);

        Assert.All(topology.Nodes, node => Assert.Contains(builder.Resources, r => r.Name == node.Name));
        Assert.Contains(builder.Resources, r => r is KvAspireClusterResource { Name: "kv" });
        // Every project exports its spans here, as it would to the dashboard.
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            builder.CreateResourceBuilder(project).WithEnvironment(context =>
            {
                foreach (var (name, value) in traces.EnvironmentFor(project.Name))
                    context.EnvironmentVariables[name] = value;
            });
        }
        var logs = new NodeLogs();
        builder.Services.AddLogging(logging => logging.AddProvider(logs));
        await using var app = await builder.BuildAsync(cancel.Token);
        KvConnection[] connections = [];
        try
        {
            await app.StartAsync(cancel.Token);
            await Task.WhenAll(topology.Nodes.Select(n => app.ResourceNotifications.WaitForResourceHealthyAsync(n.Name, cancel.Token)));
            connections = topology.Nodes.Select(n => new KvConnection([n.GrpcEndPoint], TimeSpan.FromSeconds(10))).ToArray();

            // CRUD through every node: a key's own replicas answer it directly, the others forward it once.
            var keys = Enumerable.Range(0, 12).Select(i => $"<aspire-{i}>").ToList();
            for (var i = 0; i < keys.Count; i++)
            {
                var created = await connections[i % connections.Length].ExecuteAsync(new ConsoleCommand(OperationKind.Create, keys[i], $"value {i}"), cancel.Token);
                Assert.True(created.IsOk, $"{keys[i]}: {created.Status} {created.Error}");
                for (var n = 0; n < connections.Length; n++)
                {
                    var read = await connections[n].ExecuteAsync(new ConsoleCommand(OperationKind.Read, keys[i]), cancel.Token);
                    Assert.Equal($"value {i}", read.Text);
                    Assert.Equal(topology.Nodes[n].Position == ring.OwnerOfKey(keys[i]) ? 0 : 1, read.Hops);
                }
                var updated = await connections[(i + 1) % connections.Length].ExecuteAsync(new ConsoleCommand(OperationKind.Update, keys[i], "updated", 1), cancel.Token);
                Assert.Equal(2, updated.Version);
                if (i % 2 == 1)
                {
                    Assert.True((await connections[(i + 2) % connections.Length].ExecuteAsync(new ConsoleCommand(OperationKind.Delete, keys[i], null, 2), cancel.Token)).IsOk);
                    Assert.Equal(StatusCode.NotFound, (await connections[(i + 3) % connections.Length].ExecuteAsync(new ConsoleCommand(OperationKind.Read, keys[i]), cancel.Token)).Status);
                }
            }

            // Each key is in the logs of its own position's three replicas, and nowhere else.
            foreach (var key in keys)
                Assert.Equal(topology.ReplicasOf(ring.OwnerOfKey(key)), topology.NodesWhoseLogsContain(key));

            await SampleCountsAndTracesAsync(app, traces, connections[0], cancel.Token);
            // Each node says in its own log when it became ready (not an Error line per probe before it).
            Assert.Equal(topology.Nodes.Select(n => n.Name).ToHashSet(), logs.Logged("Ready: position"));
            // A clean start, and the requests above, log nothing at Error on any node: Error means something is wrong.
            var errors = logs.Errors(topology.Nodes.Select(n => n.Name));
            Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors.Take(10)));

            // Stop position 0's leader from Aspire: another replica takes over and writes go on through every other node.
            var group = topology.ReplicasOf(0).ToList();
            var leader = await GroupProbe.WaitForLeaderAsync(group, ElectionTimeout);
            await app.ResourceCommands.ExecuteCommandAsync(leader.Name, "stop", cancel.Token);
            await app.ResourceNotifications.WaitForResourceAsync(leader.Name, KnownResourceStates.TerminalStates, cancel.Token);
            var whileDown = Enumerable.Range(0, 200).Select(i => $"<while-down-{i}>").Where(k => ring.OwnerOfKey(k) == 0).Take(8).ToList();
            for (var i = 0; i < whileDown.Count; i++)
            {
                var through = topology.Nodes.Where(n => n != leader).ElementAt(i % (topology.Nodes.Count - 1));
                var created = await connections[through.Position * 3 + through.Replica].ExecuteAsync(new ConsoleCommand(OperationKind.Create, whileDown[i], $"while down {i}"), cancel.Token);
                Assert.True(created.IsOk, $"{whileDown[i]} through {through.Name}: {created.Status} {created.Error}");
            }
            var newLeader = await GroupProbe.WaitForLeaderAsync(group.Where(n => n != leader), ElectionTimeout);
            Assert.NotEqual(leader, newLeader);

            // Back again, the old leader catches up and answers from its own map what the group holds.
            await app.ResourceCommands.ExecuteCommandAsync(leader.Name, "start", cancel.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync(leader.Name, WaitBehavior.WaitOnResourceUnavailable, cancel.Token);
            await GroupProbe.WaitCaughtUpAsync(leader, group, ElectionTimeout);
            var backConnection = connections[leader.Position * 3 + leader.Replica];
            for (var i = 0; i < whileDown.Count; i++)
            {
                var read = await backConnection.ExecuteAsync(new ConsoleCommand(OperationKind.Read, whileDown[i]), cancel.Token);
                Assert.Equal($"while down {i}", read.Text);
                Assert.Equal(0, read.Hops);
            }

            // Position 1 loses its quorum: its last replica is alive but not ready, and so is the position; position 0 stays ready.
            var cut = topology.ReplicasOf(1).ToList();
            foreach (var node in cut.Take(2))
            {
                await app.ResourceCommands.ExecuteCommandAsync(node.Name, "stop", cancel.Token);
                await app.ResourceNotifications.WaitForResourceAsync(node.Name, KnownResourceStates.TerminalStates, cancel.Token);
            }
            await app.ResourceNotifications.WaitForResourceAsync(cut[2].Name, e => e.Snapshot.HealthStatus == HealthStatus.Unhealthy, cancel.Token);
            await app.ResourceNotifications.WaitForResourceAsync("kv-p1", KvAspireClusterResource.NotReadyState, cancel.Token);
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await probe.GetAsync(cut[2].HealthAddress, cancel.Token)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync(cut[2].AliveAddress, cancel.Token)).StatusCode);
            foreach (var node in topology.ReplicasOf(0))
                Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync(node.HealthAddress, cancel.Token)).StatusCode);
            await app.ResourceNotifications.WaitForResourceAsync("kv", KvAspireClusterResource.NotReadyState, cancel.Token);
            Assert.True(app.ResourceNotifications.TryGetCurrentState("kv-p0", out var p0));
            Assert.Equal(KnownResourceStates.Running, p0.Snapshot.State?.Text);
        }
        finally
        {
            foreach (var connection in connections)
                connection.Dispose();
            await app.StopAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(1));
        }
    }

    /// <summary>
    /// The sample service, wired with <c>WithReference(kv).WaitFor(kv)</c>: five increments at once through
    /// its HTTP API all count (test-and-set, retried), a reset under its lock starts the count again, the step
    /// set in the store reaches the running sample through its configuration source, and one request to it is
    /// one trace: the sample's server span, the client library's span under it, and node spans under that.
    /// </summary>
    private static async Task SampleCountsAndTracesAsync(DistributedApplication app, OtlpTraceReceiver traces, KvConnection store, CancellationToken cancel)
    {
        await app.ResourceNotifications.WaitForResourceHealthyAsync("sample", cancel);
        using var http = app.CreateHttpClient("sample");
        var increments = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => http.PostAsync("/counters/visits", null, cancel)));
        Assert.All(increments, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        var count = await http.GetFromJsonAsync<JsonElement>("/counters/visits", cancel);
        Assert.Equal(5, count.GetProperty("value").GetInt64());
        var reset = await http.PostAsync("/counters/visits/reset", null, cancel);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        Assert.Equal(0, (await http.GetFromJsonAsync<JsonElement>("/counters/visits", cancel)).GetProperty("value").GetInt64());
        Assert.True((await store.ExecuteAsync(new ConsoleCommand(OperationKind.Create, "config/sample/Counters/Step", "10"), cancel)).IsOk);
        long before = 0, after = 0;
        await Wait.UntilAsync(async () =>
        {
            var response = await http.PostAsync("/counters/stepped", null, cancel);
            (before, after) = (after, (await response.Content.ReadFromJsonAsync<JsonElement>(cancel)).GetProperty("value").GetInt64());
            return after - before == 10;
        }, TimeSpan.FromSeconds(30), "the sample to increment by the step set in the store");

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/counters/traced", null, cancel)).StatusCode);
        string? traceId = null;
        await Wait.UntilAsync(() =>
        {
            traceId ??= traces.Spans.FirstOrDefault(s => s.Service == "sample" && s.Name == "POST /counters/{name}" &&
                traces.Spans.Any(c => c.TraceId == s.TraceId && c.Name == "kvaspire create"))?.TraceId;
            var spans = traces.Spans.Where(s => s.TraceId == traceId).ToList();
            return spans.Any(s => s.Service.StartsWith('p') && s.Name.EndsWith("/kvaspire.v1.KeyValue/Create", StringComparison.Ordinal)) &&
                   spans.All(s => s.ParentSpanId.Length == 0 || spans.Any(p => p.SpanId == s.ParentSpanId));
        }, TimeSpan.FromSeconds(60), "the spans of one request to the sample");

        var trace = traces.Spans.Where(s => s.TraceId == traceId).ToList();
        var root = Assert.Single(trace, s => s.ParentSpanId.Length == 0);
        Assert.Equal(("sample", "POST /counters/{name}"), (root.Service, root.Name));
        var create = Assert.Single(trace, s => s.Name == "kvaspire create");
        Assert.Equal("sample", create.Service);
        Assert.Contains(trace, s => s.Name == "kvaspire read" && s.Service == "sample");
        var nodeSpans = trace.Where(s => s.Service != "sample").ToList();
        Assert.NotEmpty(nodeSpans);
        Assert.All(nodeSpans, s => Assert.Matches("^p[01]r[012]$", s.Service));
    }
}

/// <summary>Aspire topologies run one at a time: they share DCP and would compete for the machine's two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AspireCollection
{
    public const string Name = "Aspire topologies";
}
