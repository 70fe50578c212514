using KvAspire.Node.Ring;
using KvAspire.Node.Storage;
using Microsoft.Extensions.Hosting;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// The single reader of F1 (R-RING-2). A request for a key of another position goes to F4. For its own
/// keys it gives each write its index and commit timestamp (so that the log and the map see the same
/// order and replay reproduces the same results), then copies writes to F2 and every request to F3.
/// Reads skip F2: the log holds only what changes the map. Snapshot markers go to F2 and F3.
/// On shutdown F1 is closed to new requests; what it holds still goes through, then F2, F3 and F4
/// close, so the workers behind them finish every accepted request before the node stops.
/// </summary>
public sealed class Dispatcher(PipelineQueues queues, LocalRing ring, RecoveredState recovered, TimeProvider clock) : BackgroundService
{
    private long _lastIndex = recovered.LastIndex;

    /// <summary>The index given to the latest write.</summary>
    public long LastIndex => Volatile.Read(ref _lastIndex);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastTimestamp = recovered.LastTimestampUnixMs;
        try
        {
            await foreach (var item in queues.F1.Reader.ReadAllAsync(CancellationToken.None))
            {
                if (item is Command { Route.Owner: var owner } command && owner != ring.Position)
                {
                    await queues.F4.Writer.WriteAsync(command, CancellationToken.None);
                    continue;
                }
                switch (item)
                {
                    case Command { Operation.IsWrite: true } write:
                        // Commit timestamps never go backwards, even if the wall clock does.
                        lastTimestamp = Math.Max(lastTimestamp, clock.GetUtcNow().ToUnixTimeMilliseconds());
                        write.Entry = new LogEntry(_lastIndex + 1, 0, lastTimestamp, write.Operation);
                        Volatile.Write(ref _lastIndex, _lastIndex + 1);
                        await queues.F2.Writer.WriteAsync(write, CancellationToken.None);
                        break;
                    case SnapshotMarker marker:
                        await queues.F2.Writer.WriteAsync(marker, CancellationToken.None);
                        break;
                }
                await queues.F3.Writer.WriteAsync(item, CancellationToken.None);
            }
        }
        finally
        {
            queues.F2.Writer.TryComplete();
            queues.F3.Writer.TryComplete();
            queues.F4.Writer.TryComplete();
        }
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        queues.F1.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }
}
