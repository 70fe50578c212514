using KvAspire.Cluster;
using KvAspire.V1;

namespace KvAspire.Routing;

/// <summary>One node as a client sees it: the position it serves and where its gRPC API is (host:port).</summary>
public readonly record struct RingMember(string Name, int Position, string GrpcEndPoint)
{
    public static RingMember Of(NodeInfo node) => new(node.Name, node.Position, node.GrpcEndPoint);
}

/// <summary>
/// The ring as a client needs it, and as a node serves it (<c>ClusterInfo.GetLayout</c>): its epoch (the
/// layout's number: 1 as the topology file describes it, one more at each change), the identifier space,
/// each position's ring id and how keys are placed (for <see cref="RingMath"/>), and which node serves which
/// position. A newer epoch replaces an older layout wherever the two meet (<see cref="StaleRoute"/>).
/// </summary>
public sealed record RingLayout(long Epoch, int IdBits, IReadOnlyList<ulong> PositionIds, IReadOnlyList<RingMember> Members, bool PlacementTags)
{
    /// <summary>The epoch of the layout a topology file describes, the one every ring starts at.</summary>
    public const long FirstEpoch = 1;

    /// <summary>N, the number of positions.</summary>
    public int Positions => PositionIds.Count;

    public static RingLayout Of(ClusterTopology topology) =>
        new(FirstEpoch, topology.IdBits, RingMath.Even(topology.IdBits, topology.Positions),
            [.. topology.Nodes.Where(n => !n.Spare).Select(RingMember.Of)], topology.PlacementTags);

    public RingMath Ring() => new(IdBits, PositionIds, PlacementTags);

    public Layout ToMessage()
    {
        var message = new Layout { Epoch = Epoch, IdBits = IdBits, Positions = Positions, PlacementTags = PlacementTags };
        message.PositionIds.AddRange(PositionIds);
        message.Nodes.AddRange(Members.Select(m => new LayoutNode { Name = m.Name, Position = m.Position, GrpcEndpoint = m.GrpcEndPoint }));
        return message;
    }

    /// <exception cref="FormatException">The layout a node answered (or a file holds) cannot be a ring: the message says why.</exception>
    public static RingLayout FromMessage(Layout message)
    {
        if (message.Epoch < 0)
            throw new FormatException($"the layout's epoch is {message.Epoch}; epochs start at {FirstEpoch}");
        ulong[] ids;
        try
        {
            ids = message.PositionIds.Count == 0 ? RingMath.Even(message.IdBits, message.Positions) : [.. message.PositionIds];
            if (ids.Length != message.Positions)
                throw new FormatException($"the layout names {ids.Length} ring ids for {message.Positions} positions");
            _ = new RingMath(message.IdBits, ids);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new FormatException($"the layout ({message.IdBits}-bit identifiers, {message.Positions} positions) is not a ring: {e.Message}", e);
        }
        foreach (var node in message.Nodes)
        {
            if (node.Position < 0 || node.Position >= message.Positions || string.IsNullOrEmpty(node.GrpcEndpoint))
                throw new FormatException($"the layout's node '{node.Name}' serves position {node.Position} at '{node.GrpcEndpoint}'; there are {message.Positions} positions");
        }
        // A node of a release before epochs answers none: its layout is the topology's, the first.
        return new(message.Epoch == 0 ? FirstEpoch : message.Epoch, message.IdBits, ids,
            [.. message.Nodes.Select(n => new RingMember(n.Name, n.Position, n.GrpcEndpoint))], message.PlacementTags);
    }
}
