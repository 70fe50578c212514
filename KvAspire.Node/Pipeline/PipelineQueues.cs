using System.Threading.Channels;
using KvAspire.Configuration;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// The node's queues, each bounded (a full queue makes its writer wait: backpressure reaches the gRPC
/// handlers) and each with one reader, which keeps arrival order.
/// F1: every request, from handlers to the dispatcher.
/// F2: writes, from the dispatcher to the log writer.
/// F3: every request, from the dispatcher to the map, in F1's order.
/// </summary>
public sealed class PipelineQueues(ClusterTopology topology)
{
    public Channel<Command> F1 { get; } = Create(topology.QueueCapacity, singleWriter: false);

    public Channel<Command> F2 { get; } = Create(topology.QueueCapacity, singleWriter: true);

    public Channel<Command> F3 { get; } = Create(topology.QueueCapacity, singleWriter: true);

    private static Channel<Command> Create(int capacity, bool singleWriter) =>
        Channel.CreateBounded<Command>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = singleWriter,
        });
}
