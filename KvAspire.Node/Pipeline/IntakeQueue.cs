using System.Diagnostics;
using KvAspire.Node.Storage;

namespace KvAspire.Node.Pipeline;

/// <summary>The handlers' side of F1: queue a request (waiting while F1 is full) and await its answer.</summary>
public sealed class IntakeQueue(PipelineQueues queues)
{
    public async Task<OperationResult> ExecuteAsync(KvCommand operation, CancellationToken cancellationToken)
    {
        var command = new Command(operation, Activity.Current?.Context ?? default);
        await queues.F1.Writer.WriteAsync(command, cancellationToken);
        return await command.Result.WaitAsync(cancellationToken);
    }
}
