using KvAspire.Cluster;
using KvAspire.Node.Configuration;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;

namespace KvAspire.Node.Ring;

/// <summary>
/// Brings this node's layout up to an epoch it has not seen: the one a request was routed with, when its
/// sender knows a newer layout, or the next, when its own group no longer owns a key this node routed to
/// it. Asks the other nodes for theirs, its own position's first (they took part in the change), until
/// one answers a layout that new.
/// </summary>
public sealed class LayoutCatchUp(LocalRing ring, NodeInfo self, PeerClients peers, NodeOptions options, TimeProvider clock)
{
    /// <param name="why">Why this node needs the epoch, for the failure's message.</param>
    /// <exception cref="RequestFailedException">No node asked knows a layout of <paramref name="epoch"/> or later (UNAVAILABLE).</exception>
    public async Task ReachAsync(long epoch, string why, CancellationToken cancellationToken)
    {
        if (ring.Epoch >= epoch)
            return;
        var failures = new List<string>();
        var others = ring.NodesByPosition.SelectMany(nodes => nodes).Where(n => n.Name != self.Name)
            .OrderBy(n => n.Position == self.Position ? 0 : 1);
        foreach (var node in others)
        {
            try
            {
                var layout = await peers.GetLayoutAsync(node, clock.GetUtcNow().UtcDateTime + options.PeerProbeTimeout, cancellationToken);
                ring.Adopt(layout);
                if (ring.Epoch >= epoch)
                    return;
                failures.Add($"{node.Name} is at epoch {layout.Epoch}");
            }
            catch (RequestFailedException e) when (!cancellationToken.IsCancellationRequested)
            {
                failures.Add($"{node.Name}: {e.Message}");
            }
        }
        throw RequestFailedException.Unavailable(
            $"{why}; this node's layout is of epoch {ring.Epoch}, and no node it asked knows epoch {epoch} ({string.Join("; ", failures)})");
    }
}
