using System.Threading.Channels;
using KvAspire.Node.Configuration;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// F3, the committed order's queue, bounded by <see cref="NodeOptions.CommittedQueueCapacity"/> (<c>QueueCapacity</c>; a full queue makes its writer,
/// the state machine, wait: Raft then applies no further until the worker catches up), with one reader,
/// which keeps the order. Only the committed order (<c>Consensus/CommittedOrder</c>) writes it: committed writes, reads
/// at their place among them, and snapshot markers, to the map. (F2, the durable log, takes Raft's entries
/// as they are appended, before they commit: <see cref="LogWorker"/>.)
/// </summary>
public sealed class PipelineQueues(NodeOptions options)
{
    public Channel<PipelineItem> ToApply { get; } =
        Channel.CreateBounded<PipelineItem>(new BoundedChannelOptions(options.CommittedQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = true,
        });

    /// <summary>Nothing more comes: the apply worker finishes what the queue holds, then stops.</summary>
    public void Close() => ToApply.Writer.TryComplete();
}
