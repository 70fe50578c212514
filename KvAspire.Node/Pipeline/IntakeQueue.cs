using KvAspire.Configuration;
using System.Diagnostics;
using System.Threading.Channels;
using KvAspire.Node.Ring;
using KvAspire.Node.Storage;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// The handlers' side of F1: locate the key on the ring (hashing here, on the handlers' threads, keeps
/// the single dispatcher thread light), queue the request (waiting while F1 is full) and await its answer.
/// </summary>
public sealed class IntakeQueue(PipelineQueues queues, LocalRing ring, NodeInfo self)
{
    /// <exception cref="NodeStoppingException">The node has stopped taking requests.</exception>
    public async Task<OperationResult> ExecuteAsync(KvCommand operation, int hopsSoFar, bool handedToLeader, CancellationToken cancellationToken)
    {
        var command = new Command(operation, Activity.Current?.Context ?? default, hopsSoFar, handedToLeader)
        {
            Route = ring.Locate(operation.Key),
        };
        try
        {
            await queues.F1.Writer.WriteAsync(command, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw new NodeStoppingException();
        }
        var result = await command.Result.WaitAsync(cancellationToken);
        // A key of this position is executed by its leader: here, unless a follower's hand-off says where.
        return result.Leader is null && command.Route.Owner == ring.Position ? result with { Leader = self.GrpcEndPoint } : result;
    }
}

/// <summary>The node is shutting down: the request was not queued and changed nothing.</summary>
public sealed class NodeStoppingException() : IOException("the node is shutting down; the request was not applied");
