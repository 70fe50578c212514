using System.Diagnostics.Tracing;
using KvAspire.Groups;
using Microsoft.Diagnostics.NETCore.Client;

namespace KvAspire.Tests.Support;

/// <summary>
/// Makes a node process run a full garbage collection the way <c>dotnet-gcdump</c> does (an EventPipe
/// session that enables the runtime's GC-heap-collect keyword), and reads from its <c>/status</c> what the
/// collection found still reachable.
/// </summary>
public static class NodeHeap
{
    private const string RuntimeProvider = "Microsoft-Windows-DotNETRuntime";
    private const long GcKeyword = 0x1;
    private const long GcHeapCollectKeyword = 0x800000;

    public static async Task<NodeMemory> AfterFullCollectionAsync(TestNode node, int processId)
    {
        var before = await MemoryOfAsync(node);
        var session = new DiagnosticsClient(processId).StartEventPipeSession(
            new EventPipeProvider(RuntimeProvider, EventLevel.Informational, GcKeyword | GcHeapCollectKeyword), requestRundown: false, circularBufferMB: 16);
        // The session's events are not needed, but they must be read for the runtime to go on writing them.
        var draining = session.EventStream.CopyToAsync(Stream.Null);
        try
        {
            NodeMemory after = before;
            await Wait.UntilAsync(async () => (after = await MemoryOfAsync(node)).FullCollections > before.FullCollections,
                TimeSpan.FromSeconds(30), $"a full collection on {node.Name}", TimeSpan.FromMilliseconds(50));
            return after;
        }
        finally
        {
            await session.StopAsync(CancellationToken.None);
            await draining;
            session.Dispose();
        }
    }

    private static async Task<NodeMemory> MemoryOfAsync(TestNode node) =>
        (await GroupProbe.StatusAsync(node))?.Memory ?? throw new InvalidOperationException($"{node.Name} reports no memory at /status");
}
