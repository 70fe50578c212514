using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Groups;
using KvAspire.Tests.Support;
using KvAspire.V1;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// The leader's memory under steady writes, on the 1×3 group of <see cref="SharedGroupCollection"/>: what
/// stays reachable after a full collection does not grow with the writes it has served, whether they come
/// with trace context (as from an app traced by OpenTelemetry) or without. (A span kept per
/// write once did: the apply worker, starting one span for each write of an entry, was left with an ended
/// span as its ambient one, and every later span kept the one before it.) The group keeps 1 MiB of
/// events for watches, full after the first rounds: bounded, so it does not grow either.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(SharedGroupCollection.Name)]
public sealed class LeaderMemoryTests(KvClientTests.Group group)
{
    private const int Callers = 64;
    private const int WritesPerCaller = 200;
    private const int Keys = 256;
    // The spans the old apply worker kept for 12,800 writes came to 6.6-6.9 MiB, traced or not; with
    // none kept, a round adds 0-0.2 MiB.
    private const long Bound = 2 << 20;

    [Fact]
    public async Task Writes_with_and_without_trace_context_leave_the_leader_s_reachable_heap_where_it_was()
    {
        var leader = await group.Cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        var processId = group.Cluster.ProcessIdOf(leader);
        // A generated gRPC client with no tracing of its own: a request carries trace context only when given one.
        using var channel = GrpcChannel.ForAddress($"http://{leader.GrpcEndPoint}");
        var kv = new KeyValue.KeyValueClient(channel);
        var value = ByteString.CopyFrom(new byte[256]);
        async Task WriteAsync(bool traced)
        {
            var callers = Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
            {
                for (var i = 0; i < WritesPerCaller; i++)
                {
                    // As an app traced by OpenTelemetry sends it: a sampled W3C traceparent of its own span.
                    var headers = traced
                        ? new Metadata { { "traceparent", $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01" } }
                        : null;
                    await kv.UpdateAsync(new UpdateRequest { Key = $"memory-{(caller * WritesPerCaller + i) % Keys}", Value = value }, headers);
                }
            }));
            await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(180));
        }
        // The spans a round leaves in the leader's export queue are not kept: read once they have gone.
        async Task<NodeMemory> ReachableAfterExportAsync()
        {
            var received = -1;
            bool NoneSinceLastLook()
            {
                var before = received;
                received = group.Traces.Spans.Count;
                return received == before;
            }
            await Wait.UntilAsync(() => Task.FromResult(NoneSinceLastLook()), TimeSpan.FromSeconds(60),
                "the group's spans to be exported", pollInterval: TimeSpan.FromMilliseconds(500));
            return await NodeHeap.AfterFullCollectionAsync(leader, processId);
        }
        foreach (var key in Enumerable.Range(0, Keys))
            await kv.CreateAsync(new CreateRequest { Key = $"memory-{key}", Value = value });

        // A first round of each brings the leader's caches and compiled code to their working size.
        await WriteAsync(traced: false);
        await WriteAsync(traced: true);
        var start = await ReachableAfterExportAsync();
        await WriteAsync(traced: false);
        var untraced = await ReachableAfterExportAsync();
        await WriteAsync(traced: true);
        var traced = await ReachableAfterExportAsync();

        Assert.Multiple(
            () => AssertBounded("without trace context", start, untraced),
            () => AssertBounded("with trace context", untraced, traced));
    }

    private static void AssertBounded(string round, NodeMemory before, NodeMemory after)
    {
        var grown = after.GcLiveBytesAfterFullCollection - before.GcLiveBytesAfterFullCollection;
        Assert.True(grown < Bound,
            $"{Callers * WritesPerCaller:N0} writes {round} grew the leader's reachable heap by {grown / 1024:N0} KiB " +
            $"({before.GcLiveBytesAfterFullCollection / 1024:N0} -> {after.GcLiveBytesAfterFullCollection / 1024:N0} KiB), over {Bound / 1024:N0} KiB");
    }
}
