using Grpc.Core;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Telemetry;
using Microsoft.Extensions.Hosting;

namespace KvAspire.Node.Ring;

/// <summary>
/// The single reader of F4 (R-RING-3): sends each request for another position's key to the finger that
/// leaves the shortest way to the owner, without waiting for the answer before taking the next request.
/// The answer (or the failure, naming the position that did not answer) goes back to the waiting
/// caller, so the server the client contacted is the one that answers it (R-RING-4).
/// </summary>
public sealed class Forwarder(PipelineQueues queues, LocalRing ring, PeerClients peers) : BackgroundService
{
    /// <summary>How long a forward may take, all later hops included, before the caller hears DEADLINE_EXCEEDED.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly HashSet<Task> _inFlight = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var item in queues.F4.Reader.ReadAllAsync(CancellationToken.None))
        {
            var forward = ForwardAsync((Command)item);
            lock (_inFlight)
                _inFlight.Add(forward);
            _ = forward.ContinueWith(done => { lock (_inFlight) _inFlight.Remove(done); }, TaskScheduler.Default);
        }

        // F4 is closed and empty: let the forwards under way finish before the node stops.
        Task[] remaining;
        lock (_inFlight)
            remaining = [.. _inFlight];
        await Task.WhenAll(remaining);
    }

    private async Task ForwardAsync(Command command)
    {
        var next = ring.Fingers.NextHop(command.Route.Owner);
        var node = ring.NodesByPosition[next][0];
        using var activity = NodeTelemetry.StartForward(command, next, node.Name);
        try
        {
            if (command.HopsSoFar >= ring.Ids.Positions)
                throw new RpcException(new Status(StatusCode.Internal, $"routing loop: {command.HopsSoFar} hops for a ring of {ring.Ids.Positions} positions"));
            command.Complete(await peers.SendAsync(node, command.Operation, command.HopsSoFar, DateTime.UtcNow + Timeout));
        }
        catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled)
        {
            command.Fail(new RpcException(new Status(e.StatusCode,
                $"position {next} ({node.Name}, {node.GrpcAddress}) did not answer: {e.Status.Detail}")));
        }
        catch (RpcException e)
        {
            command.Fail(e);
        }
    }
}
