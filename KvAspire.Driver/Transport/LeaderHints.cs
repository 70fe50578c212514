using System.Collections.Concurrent;
using Grpc.Net.Client;
using KvAspire.Cluster;
using KvAspire.Routing;

namespace KvAspire.Driver.Transport;

/// <summary>
/// Which node leads each ring position, as the cluster's answers tell (the <c>kvaspire-leader</c>
/// trailer). With the topology known, a request goes straight to its key's leader: no ring forward, no
/// follower hand-off. A hint that fails is dropped and the request takes the usual way. One instance
/// serves every connection of a client process, with one channel per leader.
/// </summary>
public sealed class LeaderHints(ClusterTopology topology) : IDisposable
{
    private readonly RingMath _ring = new(topology.IdBits, topology.Positions);
    private readonly string?[] _leaders = new string?[topology.Positions];
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new();
    private readonly HashSet<(int Position, string Address)> _members =
        [.. topology.Nodes.Select(n => (n.Position, n.GrpcEndPoint))];

    public int PositionOf(string key) => _ring.OwnerOfKey(key);

    /// <summary>The leader last heard of for <paramref name="position"/>, with its channel; null when none.</summary>
    public (string Address, GrpcChannel Channel)? LeaderOf(int position) =>
        Volatile.Read(ref _leaders[position]) is { } address
            ? (address, _channels.GetOrAdd(address, a => KvConnection.OpenChannel(KvConnection.NormalizeAddress(a))))
            : null;

    /// <summary>Takes a hint, if it names a node of that position.</summary>
    public void Learn(int position, string? address)
    {
        if (address is null || !_members.Contains((position, address)))
            return;
        lock (_leaders)
            _leaders[position] = address;
    }

    /// <summary>Drops the hint for <paramref name="position"/> if it still names <paramref name="address"/>.</summary>
    public void Forget(int position, string address)
    {
        lock (_leaders)
        {
            if (_leaders[position] == address)
                _leaders[position] = null;
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
            channel.Dispose();
    }
}
