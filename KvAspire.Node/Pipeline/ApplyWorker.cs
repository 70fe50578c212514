using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using Microsoft.Extensions.Hosting;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// The single reader of F3: applies each command to the map in queue order and hands its answer to the
/// durability gate. It runs until F3 is closed and empty.
/// </summary>
public sealed class ApplyWorker(PipelineQueues queues, RecoveredState recovered, DurabilityGate gate) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var map = recovered.Map;
        await foreach (var command in queues.F3.Reader.ReadAllAsync(CancellationToken.None))
        {
            using var activity = NodeTelemetry.StartStage("apply", command);
            if (command.Entry is { } entry)
                gate.Release(command, map.Apply(entry), entry.Index);
            else
                gate.Release(command, map.Read(command.Operation.Key), map.AppliedIndex);
        }
    }
}
