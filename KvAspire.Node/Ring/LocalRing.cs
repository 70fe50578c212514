using KvAspire.Cluster;
using KvAspire.Node.Telemetry;
using KvAspire.Operations;
using KvAspire.Routing;

namespace KvAspire.Node.Ring;

/// <summary>
/// This node's view of the ring: the layout it routes with (its epoch, the ring math, its finger table and
/// the nodes of every position) and the position it serves. It starts from the layout the node last took
/// (<see cref="RingLayoutFile"/>, the topology's at first) and moves only forward, to a layout of a higher
/// epoch (<see cref="Adopt"/>), which it writes to disk first. Each view is immutable: a caller that reads
/// several parts of the ring takes one <see cref="Current"/> and reads them all from it.
/// </summary>
public sealed class LocalRing
{
    private readonly ClusterTopology _topology;
    private readonly RingLayoutFile _file;
    private readonly ILogger _logger;
    private readonly Lock _adopting = new();
    private RingView _view;

    public LocalRing(ClusterTopology topology, NodeInfo self, RingLayoutFile file, NodeTelemetry telemetry, ILogger<LocalRing> logger)
    {
        (_topology, _file, _logger) = (topology, file, logger);
        Position = self.Position;
        var stored = file.Load();
        var layout = stored ?? RingLayout.Of(topology);
        _view = Mismatch(layout) is { } reason
            ? throw new InvalidDataException($"{file.Path} does not describe this cluster: {reason}")
            : new RingView(layout, Position, topology);
        if (stored is null)
            file.Save(layout);
        telemetry.Meter.CreateObservableGauge("kvaspire.ring.epoch", () => Epoch, "{epoch}", "The epoch of the ring's layout this node routes with");
    }

    /// <summary>The layout routed with now, and everything computed from it.</summary>
    public RingView Current => Volatile.Read(ref _view);

    /// <summary>The position this node serves.</summary>
    public int Position { get; }

    public long Epoch => Current.Layout.Epoch;

    public RingMath Ids => Current.Ids;

    /// <summary>The nodes of each position, by replica number.</summary>
    public IReadOnlyList<IReadOnlyList<NodeInfo>> NodesByPosition => Current.NodesByPosition;

    /// <summary>
    /// The nodes of <paramref name="position"/> by replica number: the layout's, or the topology's for a
    /// position the layout does not have (one added since, or removed: its group still runs, as spares).
    /// </summary>
    public IReadOnlyList<NodeInfo> NodesOf(int position) =>
        position < NodesByPosition.Count ? NodesByPosition[position] : _topology.ReplicasOf(position);

    /// <summary>Where <paramref name="key"/> lives: its identifier and the position that owns it.</summary>
    public (ulong KeyId, int Owner) Locate(string key) => Current.Locate(key);

    /// <summary>
    /// Routes with <paramref name="layout"/> from now on, when its epoch is higher than this node's and it
    /// describes this cluster; written to disk before it is used. False when it is not newer, or not this
    /// cluster's (logged: a node of another cluster, or a bug).
    /// </summary>
    public bool Adopt(RingLayout layout)
    {
        lock (_adopting)
        {
            var current = Current;
            if (layout.Epoch <= current.Layout.Epoch)
                return false;
            if (Mismatch(layout) is { } reason)
            {
                NodeLog.LayoutRefused(_logger, layout.Epoch, reason);
                return false;
            }
            _file.Save(layout);
            Volatile.Write(ref _view, new RingView(layout, Position, _topology));
            NodeLog.LayoutAdopted(_logger, current.Layout.Epoch, layout.Epoch, layout.Positions);
            return true;
        }
    }

    /// <summary>Why a layout is not one of this cluster's; null when it is.</summary>
    private string? Mismatch(RingLayout layout)
    {
        if (layout.IdBits != _topology.IdBits || layout.PlacementTags != _topology.PlacementTags)
            return $"its ring has {layout.IdBits}-bit ids{(layout.PlacementTags ? " with" : " without")} placement tags; the topology's " +
                   $"{_topology.IdBits}-bit ids{(_topology.PlacementTags ? " with" : " without")}";
        return layout.Members.FirstOrDefault(m => !_topology.Nodes.Any(n => n.Name == m.Name && n.Position == m.Position)) is { Name: not null } unknown
            ? $"it places node '{unknown.Name}' at position {unknown.Position}, which the topology does not"
            : null;
    }
}

/// <summary>One layout of the ring as a node routes with it, and everything computed from it. Immutable.</summary>
public sealed class RingView
{
    public RingView(RingLayout layout, int position, ClusterTopology topology)
    {
        Layout = layout;
        Ids = layout.Ring();
        InRing = position < layout.Positions;
        Fingers = InRing ? new FingerTable(position, Ids) : FingerTable.Outside(position, Ids);
        var nodes = topology.Nodes.ToDictionary(n => n.Name);
        NodesByPosition = [.. Enumerable.Range(0, layout.Positions).Select(p =>
            (IReadOnlyList<NodeInfo>)[.. layout.Members.Where(m => m.Position == p).Select(m => nodes[m.Name]).OrderBy(n => n.Replica)])];
    }

    public RingLayout Layout { get; }

    public RingMath Ids { get; }

    /// <summary>Whether this node's position is in the layout; a spare's is not until it is added (nor one removed, after).</summary>
    public bool InRing { get; }

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
