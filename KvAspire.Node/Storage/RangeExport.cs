namespace KvAspire.Node.Storage;

/// <summary>
/// The state a position gives away in a move, taken from a snapshot of its map after the move's fence (so
/// nothing in the range changes any more): the keys of the moving range, the leases that live with them (the
/// fence split none), every client session (sessions
/// are per client, not per key: a retry of a write the giver applied must be answered at the taker), and
/// the giver's revision, so the taker counts on above every moved key's revision. Cut into parts of about
/// <c>maxBytes</c> each, every one a snapshot of its own (<see cref="SnapshotFormat"/>) for one install entry.
/// </summary>
public sealed class RangeExport
{
    private readonly MapSnapshot _whole;
    private readonly List<KeyValuePair<string, StoredValue>> _values;
    private readonly Dictionary<long, StoredLease> _leases;

    private RangeExport(MapSnapshot whole, List<KeyValuePair<string, StoredValue>> values, OwnedRange moving)
    {
        _whole = whole;
        _values = values;
        // A snapshot's leases list no keys: those the moving keys name, and those placed with a moving key that hold none yet.
        var named = values.Select(pair => pair.Value.Lease).Where(lease => lease != 0).ToHashSet();
        _leases = (whole.Leases ?? new Dictionary<long, StoredLease>())
            .Where(lease => named.Contains(lease.Key) || lease.Value.PlacedWith is { } home && moving.Holds(home))
            .ToDictionary();
        Bytes = values.Sum(pair => (long)System.Text.Encoding.UTF8.GetByteCount(pair.Key) + pair.Value.Value.Length);
    }

    /// <summary>The moving range's keys in <paramref name="whole"/>, in key order.</summary>
    public static RangeExport Of(MapSnapshot whole, OwnedRange moving) =>
        new(whole, [.. whole.Values.Where(pair => moving.Holds(pair.Key)).OrderBy(pair => pair.Key, StringComparer.Ordinal)], moving);

    public int Keys => _values.Count;

    /// <summary>The leases that move with the range.</summary>
    public int Leases => _leases.Count;

    /// <summary>The moving keys' bytes, keys and values.</summary>
    public long Bytes { get; }

    public long Revision => _whole.Revision;

    /// <summary>
    /// The parts, leases first, then keys (each part also carrying the leases its keys name, as a snapshot
    /// must), then sessions; at least one (an empty range still carries the revision and the sessions). Each
    /// part's key count and bytes say how far the copy has come.
    /// </summary>
    public IEnumerable<(MapSnapshot Part, int Keys, long Bytes)> Parts(int maxBytes)
    {
        Dictionary<string, StoredValue> values = [];
        Dictionary<string, ClientSession> clients = [];
        Dictionary<long, StoredLease> leases = [];
        long bytes = 0, partKeyBytes = 0;
        var parts = 0;
        foreach (var (id, lease) in _leases)
        {
            leases[id] = lease;
            bytes += LeaseBytes(lease);
            if (bytes >= maxBytes)
            {
                parts++;
                yield return (Part(values, clients, leases), 0, 0);
                (leases, bytes) = ([], 0);
            }
        }
        foreach (var (key, stored) in _values)
        {
            values[key] = stored;
            var size = System.Text.Encoding.UTF8.GetByteCount(key) + stored.Value.Length;
            (bytes, partKeyBytes) = (bytes + size + 48, partKeyBytes + size);
            if (stored.Lease != 0 && leases.TryAdd(stored.Lease, _leases[stored.Lease]))
                bytes += LeaseBytes(_leases[stored.Lease]);
            if (bytes >= maxBytes)
            {
                parts++;
                yield return (Part(values, clients, leases), values.Count, partKeyBytes);
                (values, leases, bytes, partKeyBytes) = ([], [], 0, 0);
            }
        }
        foreach (var (id, session) in _whole.Clients)
        {
            clients[id] = session;
            bytes += id.Length + 64 + session.Applied.Count * 16 + session.ResultCount * 96;
            if (bytes >= maxBytes)
            {
                parts++;
                yield return (Part(values, clients, leases), values.Count, partKeyBytes);
                (values, clients, leases, bytes, partKeyBytes) = ([], [], [], 0, 0);
            }
        }
        if (values.Count > 0 || clients.Count > 0 || leases.Count > 0 || parts == 0)
            yield return (Part(values, clients, leases), values.Count, partKeyBytes);
    }

    private static int LeaseBytes(StoredLease lease) => 48 + (lease.PlacedWith?.Length ?? 0);

    private MapSnapshot Part(Dictionary<string, StoredValue> values, Dictionary<string, ClientSession> clients, Dictionary<long, StoredLease> leases) =>
        new(_whole.LastIndex, _whole.LastTerm, _whole.LastTimestampUnixMs, _whole.Revision, values, clients, leases, Move: _whole.Move);
}
