using System.Threading.Channels;
using KvAspire.Node.Configuration;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// The committed order's two queues, each bounded by <see cref="NodeOptions.CommittedQueueCapacity"/> (<c>QueueCapacity</c>; a full queue makes its writer,
/// the state machine, wait: Raft then applies no further until the worker catches up) and each with one
/// reader, which keeps the order. Only <see cref="Replication.KvStateMachine"/> writes them.
/// F2, <see cref="ToLog"/>: committed writes, to the log worker (<c>log.X</c>).
/// F3, <see cref="ToApply"/>: the same writes in the same order, and reads at their place in it, to the map.
/// Snapshot markers go through both, at their place in the order.
/// </summary>
public sealed class PipelineQueues(NodeOptions options)
{
    public Channel<PipelineItem> ToLog { get; } = Create(options.CommittedQueueCapacity);

    public Channel<PipelineItem> ToApply { get; } = Create(options.CommittedQueueCapacity);

    /// <summary>Nothing more comes: the workers finish what the queues hold, then stop.</summary>
    public void Close()
    {
        ToLog.Writer.TryComplete();
        ToApply.Writer.TryComplete();
    }

    // One writer each: the state machine writes both under one lock.
    private static Channel<PipelineItem> Create(int capacity) =>
        Channel.CreateBounded<PipelineItem>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });
}
