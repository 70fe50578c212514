using KvAspire.Cluster;
using KvAspire.Operations;
using KvAspire.Routing;

namespace KvAspire.Node.Ring;

/// <summary>
/// This node's view of the ring, built once from the topology: the ring math, the position it serves,
/// its finger table and the nodes of every position. Immutable.
/// </summary>
public sealed class LocalRing
{
    public LocalRing(ClusterTopology topology, NodeInfo self)
    {
        Ids = new RingMath(topology.IdBits, topology.Positions, topology.PlacementTags);
        Position = self.Position;
        Fingers = new FingerTable(self.Position, topology.Positions);
        NodesByPosition = topology.Nodes.GroupBy(n => n.Position).OrderBy(g => g.Key)
            .Select(g => (IReadOnlyList<NodeInfo>)g.OrderBy(n => n.Replica).ToList()).ToList();
    }

    public RingMath Ids { get; }

    /// <summary>The position this node serves.</summary>
    public int Position { get; }

    public FingerTable Fingers { get; }

    /// <summary>The nodes of each position, by replica number.</summary>
    public IReadOnlyList<IReadOnlyList<NodeInfo>> NodesByPosition { get; }

    /// <summary>Where <paramref name="key"/> lives: its identifier and the position that owns it.</summary>
    public (ulong KeyId, int Owner) Locate(string key)
    {
        var id = Ids.KeyId(key);
        return (id, Ids.Owner(id));
    }

    /// <summary>
    /// Where an operation goes, and the operation as it goes there: a lease's call to the position its id
    /// names, a grant to its key's with its id's position part set, anything else to its key's.
    /// </summary>
    public (KvOperation Operation, (ulong KeyId, int Owner) Route) Route(KvOperation operation)
    {
        if (LeaseMessages.RoutedByLease(operation))
            return (operation, (0, LeaseIds.Position(operation.Lease)));
        var route = Locate(operation.Key);
        return (operation.Kind == OperationKind.LeaseGrant ? operation with { Lease = LeaseIds.Space(route.Owner) } : operation, route);
    }
}
