using KvAspire.Node.Storage;
using Microsoft.Extensions.Hosting;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// The single reader of F1. It gives each write its index and commit timestamp (so that the log and the
/// map see the same order and replay reproduces the same results), then copies writes to F2 and every
/// request to F3. Reads skip F2: the log holds only what changes the map.
/// </summary>
public sealed class Dispatcher(PipelineQueues queues, RecoveredState recovered, TimeProvider clock) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lastIndex = recovered.LastIndex;
        var lastTimestamp = recovered.LastTimestampUnixMs;
        await foreach (var command in queues.F1.Reader.ReadAllAsync(stoppingToken))
        {
            if (command.Operation.IsWrite)
            {
                // Commit timestamps never go backwards, even if the wall clock does.
                lastTimestamp = Math.Max(lastTimestamp, clock.GetUtcNow().ToUnixTimeMilliseconds());
                command.Entry = new LogEntry(++lastIndex, 0, lastTimestamp, command.Operation);
                await queues.F2.Writer.WriteAsync(command, stoppingToken);
            }
            await queues.F3.Writer.WriteAsync(command, stoppingToken);
        }
    }
}
