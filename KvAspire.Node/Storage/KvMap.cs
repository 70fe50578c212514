namespace KvAspire.Node.Storage;

/// <summary>
/// F3's map: keys to versioned values, plus the latest results of each client's writes so that a
/// retried write returns its first result. Pure and deterministic: the same entries in the same order
/// give the same map and the same results, which is what replay (and later every replica) relies on.
/// Not thread-safe: one worker owns it.
/// </summary>
public sealed class KvMap
{
    /// <summary>How many of a client's most recent write results are remembered for retries.</summary>
    public const int RememberedResultsPerClient = 256;

    private readonly Dictionary<string, StoredValue> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ClientResults> _clients = new(StringComparer.Ordinal);

    public int Count => _values.Count;

    /// <summary>Index of the last entry applied; entries at or below it are skipped, so replay is idempotent.</summary>
    public long AppliedIndex { get; private set; }

    public OperationResult Read(string key) =>
        _values.TryGetValue(key, out var stored)
            ? new OperationResult(ResultCode.Ok, stored.Version, stored.TimestampUnixMs, stored.Value)
            : new OperationResult(ResultCode.NotFound, Detail: $"key '{key}' not found");

    /// <summary>Applies a committed write. Never throws for any command: outcomes are results.</summary>
    public OperationResult Apply(LogEntry entry)
    {
        if (entry.Index <= AppliedIndex)
            return new OperationResult(ResultCode.AlreadyApplied, Detail: $"entry {entry.Index} was already applied");
        AppliedIndex = entry.Index;

        var command = entry.Command;
        if (command.RequestId is not { } id)
            return Execute(command, entry.TimestampUnixMs);

        if (!_clients.TryGetValue(id.ClientId, out var client))
            _clients[id.ClientId] = client = new ClientResults();
        if (client.TryGet(id.Sequence, out var first))
            return first;
        if (client.IsForgotten(id.Sequence))
            return new OperationResult(ResultCode.RequestTooOld,
                Detail: $"request {id.ClientId}/{id.Sequence} is older than the last {RememberedResultsPerClient} writes of its client");

        var result = Execute(command, entry.TimestampUnixMs);
        client.Remember(id.Sequence, result);
        return result;
    }

    private OperationResult Execute(KvCommand command, long timestamp)
    {
        var exists = _values.TryGetValue(command.Key, out var stored);
        switch (command.Kind)
        {
            case OperationKind.Create when exists:
                return new OperationResult(ResultCode.AlreadyExists, stored.Version, stored.TimestampUnixMs,
                    Detail: $"key '{command.Key}' already exists");
            case OperationKind.Create:
                _values[command.Key] = new StoredValue(command.Value, 1, timestamp);
                return new OperationResult(ResultCode.Ok, 1, timestamp);
            case OperationKind.Update or OperationKind.Delete when !exists:
                return new OperationResult(ResultCode.NotFound, Detail: $"key '{command.Key}' not found");
            case OperationKind.Update or OperationKind.Delete
                when command.ExpectedVersion is { } expected && expected != stored.Version:
                return new OperationResult(ResultCode.VersionMismatch, stored.Version, stored.TimestampUnixMs,
                    Detail: $"key '{command.Key}' is at version {stored.Version}, not {expected}");
            case OperationKind.Update:
                var version = stored.Version + 1;
                _values[command.Key] = new StoredValue(command.Value, version, timestamp);
                return new OperationResult(ResultCode.Ok, version, timestamp);
            case OperationKind.Delete:
                _values.Remove(command.Key);
                return new OperationResult(ResultCode.Ok, stored.Version, timestamp);
            default:
                return Read(command.Key);
        }
    }

    private readonly record struct StoredValue(ReadOnlyMemory<byte> Value, long Version, long TimestampUnixMs);

    /// <summary>A client's most recent write results, oldest forgotten first.</summary>
    private sealed class ClientResults
    {
        private readonly Dictionary<ulong, OperationResult> _results = new();
        private readonly Queue<ulong> _order = new();
        private ulong _forgottenUpTo;
        private bool _forgotAny;

        public bool TryGet(ulong sequence, out OperationResult result) => _results.TryGetValue(sequence, out result);

        public bool IsForgotten(ulong sequence) => _forgotAny && sequence <= _forgottenUpTo;

        public void Remember(ulong sequence, OperationResult result)
        {
            _results[sequence] = result;
            _order.Enqueue(sequence);
            if (_order.Count <= RememberedResultsPerClient)
                return;
            var oldest = _order.Dequeue();
            _results.Remove(oldest);
            _forgottenUpTo = _forgotAny ? Math.Max(_forgottenUpTo, oldest) : oldest;
            _forgotAny = true;
        }
    }
}
