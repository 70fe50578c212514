using System.Diagnostics;
using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.Driver;
using KvAspire.Driver.Transport;
using KvAspire.Node.Configuration;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Tests.Support;

/// <summary>What the CutPosition nemesis checks while a position is cut off from the rest of the ring.</summary>
public static class CutPositionProbe
{
    /// <summary>
    /// While <paramref name="position"/> is cut off from the rest of the ring, reads through
    /// <paramref name="outside"/> (a node of another position): one of the cut position's keys must fail
    /// with UNAVAILABLE naming it (while the node finds out, DEADLINE_EXCEEDED may come instead), and,
    /// once it knows, at once every time, from what it knows; one of the node's own position's keys must
    /// be served.
    /// </summary>
    public static async Task<string> RunAsync(TestTopology topology, int position, TestNode outside)
    {
        var ring = new RingMath(64, topology.Nodes.Select(n => n.Position).Distinct().Count());
        var options = NodeOptions.For(TopologyLoader.Load(topology.Path));
        string KeyOf(int owner) => Enumerable.Range(0, 1000).Select(i => $"probe-{i}").First(k => ring.OwnerOfKey(k) == owner);
        var channels = NodeChannels.For(new KvClientOptions { Authority = topology.Authority });
        using var channel = channels.Open(channels.Address(outside.GrpcEndPoint));
        var client = new KeyValue.KeyValueClient(channel);
        async Task<(StatusCode Status, string Detail, TimeSpan Took)> ReadAsync(string key)
        {
            var clock = Stopwatch.StartNew();
            try
            {
                await client.ReadAsync(new ReadRequest { Key = key }, deadline: DateTime.UtcNow.AddSeconds(15));
                return (StatusCode.OK, "", clock.Elapsed);
            }
            catch (RpcException e)
            {
                return (e.StatusCode, e.Status.Detail, clock.Elapsed);
            }
        }

        // The first reads find out that the position is cut off (a connection attempt or an unanswered
        // ping per replica, until the forward's deadline); once every replica has been found unreachable,
        // every read must be refused at once, without trying a replica.
        var cutKey = KeyOf(position);
        var finding = Stopwatch.StartNew();
        var first = await ReadAsync(cutKey);
        var discovery = first;
        for (var read = 1; !discovery.Detail.StartsWith($"position {position} is unreachable", StringComparison.Ordinal); read++)
        {
            Assert.True(discovery.Status is StatusCode.Unavailable or StatusCode.DeadlineExceeded && discovery.Detail.Contains($"position {position}", StringComparison.Ordinal),
                $"read {read} of a key of cut-off position {position} through {outside.Name}: {discovery.Status} '{discovery.Detail}' after {discovery.Took.TotalSeconds:F1} s");
            Assert.True(finding.Elapsed < 3 * options.RequestTimeout, $"{outside.Name} did not find position {position} cut off within {finding.Elapsed.TotalSeconds:F0} s");
            discovery = await ReadAsync(cutKey);
        }
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 5; i++)
        {
            await Task.Delay(options.PeerProbeInterval, CancellationToken.None);
            var again = await ReadAsync(cutKey);
            // The words of the refusal that comes without trying any replica; the time is reported, not
            // asserted: on two busy cores even an answer from memory can take a while.
            Assert.True(again.Status == StatusCode.Unavailable && again.Detail.StartsWith($"position {position} is unreachable", StringComparison.Ordinal),
                $"read {i + 1} after {outside.Name} knew position {position} cut off: {again.Status} '{again.Detail}' after {again.Took.TotalSeconds:F1} s");
            slowest = again.Took > slowest ? again.Took : slowest;
        }
        var own = await ReadAsync(KeyOf(outside.Position));
        Assert.True(own.Status is StatusCode.OK or StatusCode.NotFound,
            $"a key of {outside.Name}'s own position {outside.Position}: {own.Status} '{own.Detail}'");
        return $"position {position} cut off from the ring; through {outside.Name}: {first.Status} after {first.Took.TotalMilliseconds:F0} ms, " +
               $"known cut off after {finding.Elapsed.TotalMilliseconds:F0} ms, then refused within {slowest.TotalMilliseconds:F0} ms ×5; own keys served";
    }
}
