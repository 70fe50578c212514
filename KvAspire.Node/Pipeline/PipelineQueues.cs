using System.Threading.Channels;
using KvAspire.Configuration;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// The node's queues, each bounded (a full queue makes its writer wait: backpressure reaches the gRPC
/// handlers) and each with one reader, which keeps arrival order.
/// F1: every request, from handlers to the dispatcher.
/// F2: committed writes, from Raft (the state machine) to the log writer, in commit order.
/// F3: committed writes in the same order, and reads once their read barrier has passed, to the map.
/// F4: requests for keys of other positions, from the dispatcher to the forwarder.
/// Snapshot markers go through F2 and F3, at their place in the committed order.
/// </summary>
public sealed class PipelineQueues(ClusterTopology topology)
{
    public Channel<PipelineItem> F1 { get; } = Create(topology.QueueCapacity, singleWriter: false);

    public Channel<PipelineItem> F2 { get; } = Create(topology.QueueCapacity, singleWriter: true);

    public Channel<PipelineItem> F3 { get; } = Create(topology.QueueCapacity, singleWriter: false);

    public Channel<PipelineItem> F4 { get; } = Create(topology.QueueCapacity, singleWriter: true);

    private static Channel<PipelineItem> Create(int capacity, bool singleWriter) =>
        Channel.CreateBounded<PipelineItem>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = singleWriter,
        });
}
