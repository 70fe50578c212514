using System.Collections.Concurrent;
using Grpc.Net.Client;
using KvAspire.Routing;

namespace KvAspire.Driver.Transport;

/// <summary>
/// Which node leads each ring position, as the cluster's answers tell (the <c>kvaspire-leader</c>
/// trailer). Once the ring's layout is known (<see cref="Adopt"/>, from the cluster's <c>GetLayout</c>), a
/// request goes straight to its key's leader: no ring forward, no follower hand-off. A hint that fails is
/// dropped and the request takes the usual way. One instance serves every connection of a client
/// process, with one channel per leader.
/// </summary>
internal sealed class LeaderHints(NodeChannels channels) : IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new();
    private Known? _known;

    private sealed record Known(RingLayout Layout, RingMath Ring, string?[] Leaders, HashSet<(int Position, string Address)> Members);

    /// <summary>The ring's layout, once learned; null before.</summary>
    public RingLayout? Layout => Volatile.Read(ref _known)?.Layout;

    /// <summary>
    /// Takes the ring's layout when none is known yet or it is of a newer epoch (the ring changed, or a
    /// node refused a request routed with the older one); hints learned for an older one are dropped.
    /// False when it is not newer.
    /// </summary>
    public bool Adopt(RingLayout layout)
    {
        while (Volatile.Read(ref _known) is var known && (known is null || layout.Epoch > known.Layout.Epoch))
        {
            var newer = new Known(layout, layout.Ring(), new string?[layout.Positions], [.. layout.Members.Select(m => (m.Position, m.GrpcEndPoint))]);
            if (Interlocked.CompareExchange(ref _known, newer, known) == known)
                return true;
        }
        return false;
    }

    /// <summary>The position that owns <paramref name="key"/>; null while the layout is not known.</summary>
    public int? PositionOf(string key) => Volatile.Read(ref _known)?.Ring.OwnerOfKey(key);

    /// <summary>The leader last heard of for <paramref name="position"/> (as the cluster names it, and as a URL), with its channel; null when none.</summary>
    public (string Address, string Url, GrpcChannel Channel)? LeaderOf(int position) =>
        Volatile.Read(ref _known) is { } known && Volatile.Read(ref known.Leaders[position]) is { } address
            ? (address, channels.Address(address), _channels.GetOrAdd(address, a => channels.Open(channels.Address(a))))
            : null;

    /// <summary>Takes a hint, if it names a node of that position.</summary>
    public void Learn(int position, string? address)
    {
        if (address is null || Volatile.Read(ref _known) is not { } known || !known.Members.Contains((position, address)))
            return;
        Volatile.Write(ref known.Leaders[position], address);
    }

    /// <summary>Drops the hint for <paramref name="position"/> if it still names <paramref name="address"/>.</summary>
    public void Forget(int position, string address)
    {
        if (Volatile.Read(ref _known) is { } known && Volatile.Read(ref known.Leaders[position]) is { } current && current == address)
            Interlocked.CompareExchange(ref known.Leaders[position], null, current);
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
            channel.Dispose();
    }
}
