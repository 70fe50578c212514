using System.Diagnostics;
using Grpc.Core;
using KvAspire.Node.Configuration;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Telemetry;
using KvAspire.Ring;
using Microsoft.Extensions.Hosting;

namespace KvAspire.Node.Ring;

/// <summary>
/// The single reader of F4 (R-RING-3): sends each request for another position's key to the finger that
/// leaves the shortest way to the owner, without waiting for the answer before taking the next request.
/// Of that position's replicas it tries the one that answered last, then the others it could reach a moment ago.
/// The answer (or the failure, naming the position that did not answer) goes back to the waiting
/// caller, so the server the client contacted is the one that answers it (R-RING-4).
/// </summary>
public sealed class Forwarder(PipelineQueues queues, LocalRing ring, PeerClients peers, PeerReachability reachability, NodeTimings timings, TimeProvider clock)
    : BackgroundService
{
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
        // Replicas that could not be reached a moment ago are passed over: when that is all of them the
        // position is cut off, and the caller hears so at once.
        var replicas = ring.NodesByPosition[next];
        var first = Volatile.Read(ref _preferred[next]);
        var candidates = Enumerable.Range(0, replicas.Count).Select(i => (first + i) % replicas.Count)
            .Where(i => reachability.IsReachable(replicas[i])).ToList();
        if (candidates.Count == 0)
        {
            command.Fail(new RpcException(new Status(StatusCode.Unavailable,
                $"position {next} is unreachable: none of its replicas ({string.Join(", ", replicas.Select(r => $"{r.Name} at {r.GrpcAddress}"))}) " +
                "can be connected to from here")));
            return;
        }

        // A forward may take the request timeout, all later hops included, before the caller hears DEADLINE_EXCEEDED.
        var deadline = clock.GetUtcNow().UtcDateTime + timings.RequestTimeout;
        var failures = new List<string>();
        for (var attempt = 0; ; attempt++)
        {
            var replica = candidates[attempt];
            var node = replicas[replica];
            using var activity = NodeTelemetry.StartForward(command, next, node.Name);
            var started = clock.GetTimestamp();
            try
            {
                command.Complete(await peers.SendAsync(node, command.Operation, command.HopsSoFar, deadline));
                Volatile.Write(ref _preferred[next], replica);
                return;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled)
            {
                activity?.SetStatus(ActivityStatusCode.Error, e.Status.Detail);
                var unreachable = TransportFailure.IsUnreachable(e);
                if (unreachable)
                    reachability.Unreachable(node, e);
                failures.Add($"{node.Name} at {node.GrpcAddress}: {(unreachable ? "unreachable" : e.StatusCode.ToString())} after " +
                             $"{clock.GetElapsedTime(started).TotalMilliseconds:F0} ms{(e.Status.Detail.Length > 0 ? $" ({e.Status.Detail})" : "")}");
                if (e.StatusCode is StatusCode.Unavailable && attempt + 1 < candidates.Count && clock.GetUtcNow().UtcDateTime < deadline)
                    continue;
                command.Fail(new RpcException(new Status(e.StatusCode, $"position {next} did not answer: {string.Join("; ", failures)}")));
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
