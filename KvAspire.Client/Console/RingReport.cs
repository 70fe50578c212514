using System.Globalization;
using KvAspire.Configuration;
using KvAspire.Client.Connection;
using KvAspire.Ring;

namespace KvAspire.Client.Console;

/// <summary>
/// The <c>ring</c> and <c>whereis</c> commands: computed from the topology file with the same ring math
/// the nodes use, so any tool can tell where a key lives. <c>ring</c> also asks each node's health.
/// </summary>
public sealed class RingReport(ClusterTopology topology, ReplyPrinter printer)
{
    public const string NeedsTopology = "ring and whereis need the topology file: --cluster <cluster.json>";

    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(1) };

    private readonly RingMath _ring = new(topology.IdBits, topology.Positions);

    public int WhereIs(string key)
    {
        var id = _ring.KeyId(key);
        var owner = _ring.Owner(id);
        var nodes = NodesOf(owner);
        printer.PrintResult(
            $"{key}: id {Hex(id)} ({id}), owner position {owner}: {string.Join(", ", nodes.Select(n => $"{n.Name} {n.Host}:{n.GrpcPort}"))}",
            new { command = "whereis", key, keyId = Hex(id), owner, nodes = nodes.Select(n => n.Name) });
        return ExitCodes.Success;
    }

    public async Task<int> ShowAsync()
    {
        var health = await Task.WhenAll(topology.Nodes.Select(async n => (n.Name, Up: await IsUpAsync(n))));
        var up = health.ToDictionary(h => h.Name, h => h.Up);
        printer.PrintResult($"{_ring.Positions} positions, {topology.IdBits}-bit ids, {topology.Replicas} replica(s) each", null);
        for (var position = 0; position < _ring.Positions; position++)
        {
            var (after, upTo) = _ring.Range(position);
            var range = after is { } a ? $"({Hex(a)}, {Hex(upTo)}]" : $"[{Hex(0)}, {Hex(upTo)}] (wraps around)";
            var nodes = NodesOf(position);
            printer.PrintResult(
                $"position {position}  id {Hex(_ring.PositionId(position))}  owns {range}  " +
                string.Join(", ", nodes.Select(n => $"{n.Name} {n.Host}:{n.GrpcPort} {(up[n.Name] ? "up" : "DOWN")}")),
                new
                {
                    command = "ring", position, id = Hex(_ring.PositionId(position)),
                    after = after is { } x ? Hex(x) : null, upTo = Hex(upTo),
                    nodes = nodes.Select(n => new { name = n.Name, address = $"{n.Host}:{n.GrpcPort}", up = up[n.Name] }),
                });
        }
        return ExitCodes.Success;
    }

    private List<NodeInfo> NodesOf(int position) =>
        topology.Nodes.Where(n => n.Position == position).OrderBy(n => n.Replica).ToList();

    private static async Task<bool> IsUpAsync(NodeInfo node)
    {
        try
        {
            using var response = await Http.GetAsync($"{node.HttpAddress}/health");
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private string Hex(ulong id) => "0x" + id.ToString($"x{(topology.IdBits + 3) / 4}", CultureInfo.InvariantCulture);
}
