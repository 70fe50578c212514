using KvAspire.Node.Replication;
using KvAspire.Node.Ring;
using Microsoft.Extensions.Hosting;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// The single reader of F1 (R-RING-2, R-REP-2). A request for a key of another position goes to F4; a
/// request for one of this position's keys goes to the replication path, which brings it back into F2
/// and F3 once Raft has placed it in the committed order.
/// On shutdown F1 is closed to new requests; what it holds still goes through, then F2, F3 and F4
/// close, so the workers behind them finish every accepted request before the node stops.
/// </summary>
public sealed class Dispatcher(PipelineQueues queues, LocalRing ring, ReplicationPath replication) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var item in queues.F1.Reader.ReadAllAsync(CancellationToken.None))
            {
                var command = (Command)item;
                if (command.Route.Owner != ring.Position)
                    await queues.F4.Writer.WriteAsync(command, CancellationToken.None);
                else
                    replication.Submit(command);
            }
            await replication.DrainAsync();
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
