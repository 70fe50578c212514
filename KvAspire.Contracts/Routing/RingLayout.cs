using KvAspire.Cluster;
using KvAspire.V1;

namespace KvAspire.Routing;

/// <summary>One node as a client sees it: the position it serves and where its gRPC API is (host:port).</summary>
public readonly record struct RingMember(string Name, int Position, string GrpcEndPoint);

/// <summary>
/// The ring as a client needs it, and as a node serves it (<c>ClusterInfo.GetLayout</c>): the identifier
/// space, the positions and how keys are placed (for <see cref="RingMath"/>), and which node serves which position.
/// </summary>
public sealed record RingLayout(int IdBits, int Positions, IReadOnlyList<RingMember> Members, bool PlacementTags)
{
    public static RingLayout Of(ClusterTopology topology) =>
        new(topology.IdBits, topology.Positions, [.. topology.Nodes.Select(n => new RingMember(n.Name, n.Position, n.GrpcEndPoint))],
            topology.PlacementTags);

    public RingMath Ring() => new(IdBits, Positions, PlacementTags);

    public Layout ToMessage()
    {
        var message = new Layout { IdBits = IdBits, Positions = Positions, PlacementTags = PlacementTags };
        message.Nodes.AddRange(Members.Select(m => new LayoutNode { Name = m.Name, Position = m.Position, GrpcEndpoint = m.GrpcEndPoint }));
        return message;
    }

    /// <exception cref="FormatException">The layout a node answered cannot be a ring: the message says why.</exception>
    public static RingLayout FromMessage(Layout message)
    {
        try
        {
            _ = new RingMath(message.IdBits, message.Positions);
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
        return new(message.IdBits, message.Positions, [.. message.Nodes.Select(n => new RingMember(n.Name, n.Position, n.GrpcEndpoint))],
            message.PlacementTags);
    }
}
