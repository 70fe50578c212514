using Grpc.Core;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Telemetry;
using Microsoft.Extensions.Hosting;

namespace KvAspire.Node.Ring;

/// <summary>
/// The single reader of F4 (R-RING-3): sends each request for another position's key to the finger that
/// leaves the shortest way to the owner, without waiting for the answer before taking the next request.
/// Of that position's replicas it tries the one that answered last, then the others.
/// The answer (or the failure, naming the position that did not answer) goes back to the waiting
/// caller, so the server the client contacted is the one that answers it (R-RING-4).
/// </summary>
public sealed class Forwarder(PipelineQueues queues, LocalRing ring, PeerClients peers) : BackgroundService
{
    /// <summary>How long a forward may take, all later hops included, before the caller hears DEADLINE_EXCEEDED.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly InFlightTasks _inFlight = new();

    // Per position: the replica that answered the last forward there.
    private readonly int[] _preferred = new int[ring.NodesByPosition.Count];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var item in queues.F4.Reader.ReadAllAsync(CancellationToken.None))
        {
            _inFlight.Track(ForwardAsync((Command)item));
        }

        // F4 is closed and empty: let the forwards under way finish before the node stops.
        await _inFlight.WhenAllAsync();
    }

    private async Task ForwardAsync(Command command)
    {
        var next = ring.Fingers.NextHop(command.Route.Owner);
        if (command.HopsSoFar >= ring.Ids.Positions)
        {
            command.Fail(new RpcException(new Status(StatusCode.Internal, $"routing loop: {command.HopsSoFar} hops for a ring of {ring.Ids.Positions} positions")));
            return;
        }

        // Start with the replica that answered last time (the leader, or one that reaches it); move to the
        // next replica when one cannot be reached. Any replica serves: a follower hands writes to its leader.
        var replicas = ring.NodesByPosition[next];
        var first = Volatile.Read(ref _preferred[next]);
        var deadline = DateTime.UtcNow + Timeout;
        for (var attempt = 0; ; attempt++)
        {
            var replica = (first + attempt) % replicas.Count;
            var node = replicas[replica];
            using var activity = NodeTelemetry.StartForward(command, next, node.Name);
            try
            {
                command.Complete(await peers.SendAsync(node, command.Operation, command.HopsSoFar, deadline));
                Volatile.Write(ref _preferred[next], replica);
                return;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable && attempt + 1 < replicas.Count && DateTime.UtcNow < deadline)
            {
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Status.Detail);
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled)
            {
                command.Fail(new RpcException(new Status(e.StatusCode,
                    $"position {next} ({node.Name}, {node.GrpcAddress}) did not answer: {e.Status.Detail}")));
                return;
            }
            catch (RpcException e)
            {
                command.Fail(e);
                return;
            }
        }
    }
}
