using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Client.Commands;
using KvAspire.Driver.Transport;
using KvAspire.Operations;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// Clients that send without waiting, against a 1×3 group of real processes reached through all three
/// nodes (followers hand requests to the leader, so requests overtake each other on the way): the
/// console's commands take effect in the order typed, and a client's pipelined writes, in whatever order
/// they arrive, are each applied exactly once and none is refused.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(NemesisCollection.Name)]
public sealed class PipelinedClientTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private LocalCluster _cluster = null!;

    private IEnumerable<string> NodeArguments => _cluster.Topology.Nodes.SelectMany(n => new[] { "--node", n.GrpcEndPoint });

    public async Task InitializeAsync() =>
        _cluster = await LocalCluster.StartAsync(TestTopology.Ring(_directory, positions: 1, replicas: 3));

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        _directory.Dispose();
    }

    private async Task<Reply> ReadAsync(string key)
    {
        using var connection = new KvConnection(_cluster.Topology.Nodes.Select(n => n.GrpcEndPoint).ToList(), TimeSpan.FromSeconds(10));
        return await connection.ExecuteAsync(new ConsoleCommand(OperationKind.Read, key));
    }

    [Fact]
    public async Task Three_hundred_piped_updates_of_one_key_end_at_version_301_with_the_last_value()
    {
        var lines = new[] { "create chain v0" }.Concat(Enumerable.Range(1, 300).Select(i => $"update chain v{i}"));

        var run = await ClientProcess.RunAsync([.. NodeArguments, "--drain-seconds", "1"], lines);

        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain("error", run.Errors);
        var stored = await ReadAsync("chain");
        Assert.Equal(("v300", 301L), (stored.Text, stored.Version));
    }

    [Fact]
    public async Task A_thousand_piped_commands_over_ten_keys_leave_each_key_as_a_sequential_replay_says()
    {
        var random = new Random(12);
        var model = new Dictionary<string, (string Value, long Version)>();
        var lines = new List<string>();
        var expectedOk = 0;
        for (var i = 0; i < 1000; i++)
        {
            var key = $"key{random.Next(10)}";
            var exists = model.TryGetValue(key, out var current);
            // An expected version that is right about half the time.
            var version = exists ? current.Version + random.Next(2) : 1;
            var (line, ok) = random.Next(6) switch
            {
                0 => ($"create {key} v{i}", !exists),
                1 => ($"update {key} v{i}", exists),
                2 => ($"update {key} v{i} {version}", exists && version == current.Version),
                3 => ($"delete {key}", exists),
                4 => ($"delete {key} {version}", exists && version == current.Version),
                _ => ($"read {key}", exists),
            };
            if (ok && line.StartsWith("create", StringComparison.Ordinal))
                model[key] = ($"v{i}", 1);
            else if (ok && line.StartsWith("update", StringComparison.Ordinal))
                model[key] = ($"v{i}", current.Version + 1);
            else if (ok && line.StartsWith("delete", StringComparison.Ordinal))
                model.Remove(key);
            lines.Add(line);
            expectedOk += ok ? 1 : 0;
        }

        var run = await ClientProcess.RunAsync([.. NodeArguments, "--json", "--drain-seconds", "1"], lines);

        var answers = run.Output.Split('\n').Where(l => l.StartsWith('{') && l.Contains("\"tag\"")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(1000, answers.Count);
        Assert.Equal(expectedOk, answers.Count(a => a.GetProperty("ok").GetBoolean()));
        for (var k = 0; k < 10; k++)
        {
            var stored = await ReadAsync($"key{k}");
            if (model.TryGetValue($"key{k}", out var expected))
                Assert.Equal((expected.Value, expected.Version), (stored.Text, stored.Version));
            else
                Assert.Equal(StatusCode.NotFound, stored.Status);
        }
    }

    [Fact]
    public async Task A_thousand_writes_of_one_client_id_sent_at_once_in_shuffled_order_are_each_applied_once_and_none_refused()
    {
        var channels = _cluster.Topology.Nodes.Select(n => GrpcChannel.ForAddress($"http://{n.GrpcEndPoint}")).ToList();
        try
        {
            var clients = channels.Select(c => new KeyValue.KeyValueClient(c)).ToList();
            await clients[0].CreateAsync(new CreateRequest { Key = "shuffled", Value = ByteString.CopyFromUtf8("v0") });
            var sequences = Enumerable.Range(1, 1000).Select(s => (ulong)s).OrderBy(_ => Random.Shared.Next()).ToList();
            Task<WriteReply[]> SendAll(string prefix) => Task.WhenAll(sequences.Select((sequence, i) =>
                clients[i % clients.Count].UpdateAsync(new UpdateRequest
                {
                    Key = "shuffled",
                    Value = ByteString.CopyFromUtf8($"{prefix}{sequence}"),
                    Id = new RequestId { ClientId = "one-pipelining-client", Sequence = sequence },
                }, deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync));

            var first = await SendAll("v");
            var retried = await SendAll("retry");

            Assert.Equal(Enumerable.Range(2, 1000).Select(v => (long)v), first.Select(r => r.Version).Order());
            Assert.Equal(first.Select(r => r.Version), retried.Select(r => r.Version));
            var stored = await ReadAsync("shuffled");
            Assert.Equal(1001, stored.Version);
            Assert.StartsWith("v", stored.Text);
        }
        finally
        {
            foreach (var channel in channels)
                channel.Dispose();
        }
    }
}
