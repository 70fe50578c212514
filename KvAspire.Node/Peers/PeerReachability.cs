using System.Collections.Concurrent;
using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.Node.Configuration;
using KvAspire.Node.Telemetry;
using KvAspire.Routing;

namespace KvAspire.Node.Peers;

/// <summary>
/// Which peers this node cannot reach (a connection failed, or died under a call), so that while a
/// position is cut off its keys fail at once instead of each request waiting out connection attempts.
/// A peer stays passed over until it answers again: pinged (gRPC health) in the background every
/// probe interval, so no request pays for finding out.
/// </summary>
public sealed class PeerReachability(PeerClients peers, NodeOptions options, IHostApplicationLifetime lifetime, TimeProvider clock,
    ILogger<PeerReachability> logger)
{
    // The peers being probed; each has one probe running.
    private readonly ConcurrentDictionary<string, bool> _unreachable = new();

    public bool IsReachable(NodeInfo node) => !_unreachable.ContainsKey(node.Name);

    /// <summary>A call never reached its node: pass the node over until it can be connected to again.</summary>
    public void Unreachable(PeerUnreachableException failure)
    {
        if (!_unreachable.TryAdd(failure.Node.Name, true))
            return;
        NodeLog.PeerUnreachable(logger, failure.Node.Name, failure.Message);
        _ = ProbeAsync(failure.Node, lifetime.ApplicationStopping);
    }

    private void Reached(NodeInfo node)
    {
        _unreachable.TryRemove(node.Name, out _);
        NodeLog.PeerReachable(logger, node.Name);
    }

    private async Task ProbeAsync(NodeInfo node, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.PeerProbeInterval, clock, stopping);
                await peers.PingAsync(node, options.PeerProbeTimeout);
                Reached(node);
                return;
            }
            catch (RpcException e) when (!TransportFailure.IsUnreachable(e) && e.StatusCode != StatusCode.DeadlineExceeded)
            {
                // It answered (that it is not serving, say): the link works.
                Reached(node);
                return;
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException)
            {
                // Not reached within the probe's timeout, or the node is stopping.
            }
        }
    }
}
