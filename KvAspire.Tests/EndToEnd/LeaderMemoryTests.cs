using Google.Protobuf;
using Grpc.Net.Client;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// The leader's memory under steady writes, on the 1×3 group of <see cref="SharedGroupCollection"/>: what
/// stays reachable after a full collection does not grow with the writes it has served. (A span kept per
/// write once did: the apply worker, starting one span for each write of an entry, was left with an ended
/// span as its ambient one, and every later span kept the one before it.)
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(SharedGroupCollection.Name)]
public sealed class LeaderMemoryTests(KvClientTests.Group group)
{
    private const int Callers = 64;
    private const int WritesPerCaller = 200;
    private const int Keys = 256;
    // The spans the old apply worker kept for these 12,800 writes came to ~6.8 MiB; with none kept, the
    // round adds 0.1-0.2 MiB.
    private const long Bound = 2 << 20;

    [Fact]
    public async Task Writes_from_clients_without_trace_context_leave_the_leader_s_reachable_heap_where_it_was()
    {
        var leader = await group.Cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        var processId = group.Cluster.ProcessIdOf(leader);
        // A generated gRPC client with no tracing of its own: the requests carry no trace context.
        using var channel = GrpcChannel.ForAddress($"http://{leader.GrpcAddress}");
        var kv = new KeyValue.KeyValueClient(channel);
        var value = ByteString.CopyFrom(new byte[256]);
        async Task WriteAsync(int round)
        {
            var callers = Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
            {
                for (var i = 0; i < WritesPerCaller; i++)
                    await kv.UpdateAsync(new UpdateRequest { Key = $"memory-{(caller * WritesPerCaller + i) % Keys}", Value = value });
            }));
            await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(180));
        }
        foreach (var key in Enumerable.Range(0, Keys))
            await kv.CreateAsync(new CreateRequest { Key = $"memory-{key}", Value = value });

        // A first round brings the leader's caches and compiled code to their working size.
        await WriteAsync(0);
        var before = await NodeHeap.AfterFullCollectionAsync(leader, processId);
        await WriteAsync(1);
        var after = await NodeHeap.AfterFullCollectionAsync(leader, processId);

        var grown = after.GcLiveBytesAfterFullCollection - before.GcLiveBytesAfterFullCollection;
        Assert.True(grown < Bound,
            $"{Callers * WritesPerCaller:N0} writes grew the leader's reachable heap by {grown / 1024:N0} KiB " +
            $"({before.GcLiveBytesAfterFullCollection / 1024:N0} -> {after.GcLiveBytesAfterFullCollection / 1024:N0} KiB), over {Bound / 1024:N0} KiB");
    }
}
