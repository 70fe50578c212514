using System.Globalization;
using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.Groups;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Client.Shell;

/// <summary>
/// The <c>ring</c> and <c>whereis</c> commands: computed with the same ring math the nodes use, from the
/// layout the cluster routes with (the newest any node answers, with its epoch; the topology file's when
/// none answers), so any tool can tell where a key lives. <c>ring</c> also asks each node for its view of
/// its Raft group: which replica leads each position, in which term.
/// </summary>
public sealed class RingReport(ClusterTopology topology, AdminAccess access, ReplyPrinter printer)
{
    public const string NeedsTopology = "ring and whereis need the topology file: --cluster <cluster.json>";

    // A node that is down refuses at once; one that takes a second to answer on a busy machine is not down.
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);

    private readonly HttpClient _http = access.StatusClient(AskTimeout);

    public async Task<int> WhereIsAsync(string key)
    {
        var layout = await LayoutAsync();
        var ring = layout.Ring();
        var id = ring.KeyId(key);
        var owner = ring.Owner(id);
        var nodes = NodesOf(layout, owner);
        // With placement tags, the part of the key the ring hashed, when it is not the whole key.
        var placedBy = ring.PlacementTags && RingMath.PlacementPart(key) is var part && part != key ? part : null;
        printer.PrintResult(
            $"{key}: id {Hex(id)} ({id}){(placedBy is null ? "" : $", placed by its tag {{{placedBy}}}")}, owner position {owner}: " +
            string.Join(", ", nodes.Select(n => $"{n.Name} {n.GrpcEndPoint}")) + $" (ring epoch {layout.Epoch})",
            new { command = "whereis", key, keyId = Hex(id), placedBy, owner, nodes = nodes.Select(n => n.Name), epoch = layout.Epoch });
        return ExitCodes.Success;
    }

    public async Task<int> ShowAsync()
    {
        var layoutAsked = LayoutAsync();
        var answers = await Task.WhenAll(topology.Nodes.Select(async n => (n.Name, Status: await StatusAsync(n))));
        var layout = await layoutAsked;
        var ring = layout.Ring();
        var status = answers.ToDictionary(a => a.Name, a => a.Status);
        printer.PrintResult($"{ring.Positions} positions, {topology.IdBits}-bit ids, {topology.Replicas} replica(s) each, ring epoch {layout.Epoch}", null);
        for (var position = 0; position < ring.Positions; position++)
        {
            var (after, upTo) = ring.Range(position);
            var range = after switch
            {
                null => $"[{Hex(0)}, {Hex(upTo)}] (wraps around)",
                { } a when a >= upTo => $"({Hex(a)}, {Hex(ring.MaxId)}] and [{Hex(0)}, {Hex(upTo)}] (wraps around)",
                { } a => $"({Hex(a)}, {Hex(upTo)}]",
            };
            var nodes = NodesOf(layout, position);
            var leader = nodes.Select(n => status.GetValueOrDefault(n.Name)).FirstOrDefault(s => s?.Role == "leader");
            printer.PrintResult(
                $"position {position}  id {Hex(ring.PositionId(position))}  owns {range}  " +
                (leader is null ? "no leader  " : $"leader {leader.Node} (term {leader.Term})  ") +
                string.Join(", ", nodes.Select(n => $"{n.Name} {n.GrpcEndPoint} {status.GetValueOrDefault(n.Name)?.Role ?? "DOWN"}")),
                new
                {
                    command = "ring", position, id = Hex(ring.PositionId(position)), epoch = layout.Epoch,
                    after = after is { } x ? Hex(x) : null, upTo = Hex(upTo),
                    leader = leader?.Node, term = leader?.Term,
                    nodes = nodes.Select(n => new
                    {
                        name = n.Name, address = n.GrpcEndPoint, up = status.GetValueOrDefault(n.Name) is not null,
                        role = status.GetValueOrDefault(n.Name)?.Role, term = status.GetValueOrDefault(n.Name)?.Term,
                        appliedIndex = status.GetValueOrDefault(n.Name)?.AppliedIndex,
                    }),
                });
        }
        // Nodes of positions the layout does not have: spares, or the nodes of a position removed.
        var spares = topology.Nodes.Where(n => !layout.Members.Any(m => m.Name == n.Name)).ToList();
        if (spares.Count > 0)
        {
            printer.PrintResult($"spares  {string.Join(", ", spares.Select(n => $"{n.Name} (position {n.Position}) {n.GrpcEndPoint} {(status.GetValueOrDefault(n.Name) is null ? "DOWN" : "up")}"))}" +
                                "  (ring add-position <position> adds a position whose spares are up)",
                new { command = "ring", spares = spares.Select(n => new { name = n.Name, position = n.Position, address = n.GrpcEndPoint, up = status.GetValueOrDefault(n.Name) is not null }) });
        }
        return ExitCodes.Success;
    }

    /// <summary>The newest layout any node answers; the topology file's, said so, when none answers.</summary>
    private async Task<RingLayout> LayoutAsync()
    {
        var answers = await Task.WhenAll(topology.Nodes.Select(async node =>
        {
            using var channel = access.Channel(node.GrpcEndPoint);
            try
            {
                return RingLayout.FromMessage(await new ClusterInfo.ClusterInfoClient(channel).GetLayoutAsync(new GetLayoutRequest(), access.Headers,
                    DateTime.UtcNow + AskTimeout));
            }
            catch (Exception e) when (e is RpcException or FormatException)
            {
                return null;
            }
        }));
        if (answers.OfType<RingLayout>().MaxBy(layout => layout.Epoch) is { } newest)
            return newest;
        printer.PrintError("no node answered with the ring's layout: computed from the topology file, as the ring started");
        return RingLayout.Of(topology);
    }

    private static List<RingMember> NodesOf(RingLayout layout, int position) =>
        [.. layout.Members.Where(m => m.Position == position)];

    private Task<GroupStatusReport?> StatusAsync(NodeInfo node) => GroupStatusClient.TryGetAsync(_http, node, CancellationToken.None);

    private string Hex(ulong id) => "0x" + id.ToString($"x{(topology.IdBits + 3) / 4}", CultureInfo.InvariantCulture);
}
