using System.Globalization;
using KvAspire.Cluster;
using KvAspire.Groups;
using KvAspire.Routing;

namespace KvAspire.Client.Shell;

/// <summary>
/// The <c>ring</c> and <c>whereis</c> commands: computed from the topology file with the same ring math
/// the nodes use, so any tool can tell where a key lives. <c>ring</c> also asks each node for its view of
/// its Raft group: which replica leads each position, in which term.
/// </summary>
public sealed class RingReport(ClusterTopology topology, AdminAccess access, ReplyPrinter printer)
{
    public const string NeedsTopology = "ring and whereis need the topology file: --cluster <cluster.json>";

    private readonly HttpClient _http = access.StatusClient(TimeSpan.FromSeconds(1));

    private readonly RingMath _ring = new(topology.IdBits, topology.Positions, topology.PlacementTags);

    public int WhereIs(string key)
    {
        var id = _ring.KeyId(key);
        var owner = _ring.Owner(id);
        var nodes = NodesOf(owner);
        // With placement tags, the part of the key the ring hashed, when it is not the whole key.
        var placedBy = _ring.PlacementTags && RingMath.PlacementPart(key) is var part && part != key ? part : null;
        printer.PrintResult(
            $"{key}: id {Hex(id)} ({id}){(placedBy is null ? "" : $", placed by its tag {{{placedBy}}}")}, owner position {owner}: " +
            string.Join(", ", nodes.Select(n => $"{n.Name} {n.GrpcEndPoint}")),
            new { command = "whereis", key, keyId = Hex(id), placedBy, owner, nodes = nodes.Select(n => n.Name) });
        return ExitCodes.Success;
    }

    public async Task<int> ShowAsync()
    {
        var answers = await Task.WhenAll(topology.Nodes.Select(async n => (n.Name, Status: await StatusAsync(n))));
        var status = answers.ToDictionary(a => a.Name, a => a.Status);
        printer.PrintResult($"{_ring.Positions} positions, {topology.IdBits}-bit ids, {topology.Replicas} replica(s) each", null);
        for (var position = 0; position < _ring.Positions; position++)
        {
            var (after, upTo) = _ring.Range(position);
            var range = after is { } a ? $"({Hex(a)}, {Hex(upTo)}]" : $"[{Hex(0)}, {Hex(upTo)}] (wraps around)";
            var nodes = NodesOf(position);
            var leader = nodes.Select(n => status[n.Name]).FirstOrDefault(s => s?.Role == "leader");
            printer.PrintResult(
                $"position {position}  id {Hex(_ring.PositionId(position))}  owns {range}  " +
                (leader is null ? "no leader  " : $"leader {leader.Node} (term {leader.Term})  ") +
                string.Join(", ", nodes.Select(n => $"{n.Name} {n.GrpcEndPoint} {status[n.Name]?.Role ?? "DOWN"}")),
                new
                {
                    command = "ring", position, id = Hex(_ring.PositionId(position)),
                    after = after is { } x ? Hex(x) : null, upTo = Hex(upTo),
                    leader = leader?.Node, term = leader?.Term,
                    nodes = nodes.Select(n => new
                    {
                        name = n.Name, address = n.GrpcEndPoint, up = status[n.Name] is not null,
                        role = status[n.Name]?.Role, term = status[n.Name]?.Term, appliedIndex = status[n.Name]?.AppliedIndex,
                    }),
                });
        }
        return ExitCodes.Success;
    }

    private List<NodeInfo> NodesOf(int position) =>
        topology.Nodes.Where(n => n.Position == position).OrderBy(n => n.Replica).ToList();

    private Task<GroupStatusReport?> StatusAsync(NodeInfo node) => GroupStatusClient.TryGetAsync(_http, node, CancellationToken.None);

    private string Hex(ulong id) => "0x" + id.ToString($"x{(topology.IdBits + 3) / 4}", CultureInfo.InvariantCulture);
}
