using System.Collections.Immutable;
using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// F3's map: keys to versioned values, plus each client's session (which of its writes were applied, and
/// their latest results) so that every write is applied at most once and a retry returns its first
/// result. Pure and deterministic: the same entries in the same order give the same map and the same
/// results, which is what replay (and later every replica) relies on. From its position's baseline entry
/// on, it numbers the changes: each write that changes a key takes the next <see cref="Revision"/>,
/// several in one entry each their own (docs/coordination-plan.md). It keeps the position's leases and
/// the keys each holds; no clock here: whether a lease is due is its leader's call, committed as a revoke.
/// <see cref="Freeze"/> gives a point-in-time view for a snapshot at no cost; writes go on meanwhile.
/// Not thread-safe: one worker owns it.
/// </summary>
public sealed partial class KvMap
{
    /// <summary>Every this many entries (by index, so every replica at the same point) silent clients are forgotten.</summary>
    public const long SweepInterval = 4096;

    private readonly FreezableDictionary<StoredValue> _values = new();
    private readonly FreezableDictionary<ClientSession> _clients = new();
    private readonly List<KeyEvent> _changes = [];
    private readonly List<LeaseChange> _leaseChanges = [];
    // Immutable, so a freeze is the reference: leases are few and change by whole records.
    private ImmutableDictionary<long, StoredLease> _leases = ImmutableDictionary<long, StoredLease>.Empty;

    public int Count => _values.Count;

    /// <summary>Clients whose sessions are remembered.</summary>
    public int ClientCount => _clients.Count;

    /// <summary>Index of the last entry applied; entries at or below it are skipped, so replay is idempotent.</summary>
    public long AppliedIndex { get; private set; }

    public long AppliedTerm { get; private set; }

    /// <summary>The latest commit timestamp applied: timestamps given later must not go below it.</summary>
    public long LastTimestampUnixMs { get; private set; }

    /// <summary>
    /// The position's revision: that of its latest change, 1 at its baseline entry, 0 before it (a group
    /// whose data predates revisions, until every member runs a release that counts them).
    /// </summary>
    public long Revision { get; private set; }

    /// <summary>The changes the last <see cref="Apply(CommittedEntry)"/> made, in order: what watchers see (none before the baseline).</summary>
    public IReadOnlyList<KeyEvent> Changes => _changes;

    /// <summary>What the last <see cref="Apply(CommittedEntry)"/> did to leases, in order: what the lease deadlines follow.</summary>
    public IReadOnlyList<LeaseChange> LeaseChanges => _leaseChanges;

    public IReadOnlyDictionary<long, StoredLease> Leases => _leases;

    /// <summary>
    /// The range of keys its position owns, from its latest claim entry: a key outside it is answered
    /// <see cref="ResultCode.NotOwner"/>, never read or changed. Null before the first claim (a group whose
    /// data predates claims, until its leader commits one): every key is served, as routed.
    /// </summary>
    public OwnedRange? Claim { get; private set; }

    /// <summary>Leases granted so far: the next grant is number this plus one.</summary>
    public long LeasesGranted { get; private set; }

    public OperationResult Read(string key) =>
        NotOwned(key) ?? (_values.TryGetValue(key, out var stored)
            ? Found(ResultCode.Ok, stored) with { Value = stored.Value }
            : new OperationResult(ResultCode.NotFound, Detail: $"key '{key}' not found", Revision: Revision));

    /// <summary>The answer for an operation naming a key outside the position's claim (a transaction: any of its keys).</summary>
    private OperationResult? NotOwned(KvOperation command) => command switch
    {
        { Txn: { } txn } => txn.Keys.Select(NotOwned).FirstOrDefault(answer => answer is not null),
        _ => NotOwned(command.Key),
    };

    /// <summary>
    /// The answer for a key outside the position's claim; null for one inside it (or before any claim). The
    /// empty key, which no client may send, names no key: it is the node's own read of the position's
    /// revision (<c>ReplicationPath.ReadRevisionAsync</c>), which every position answers.
    /// </summary>
    private OperationResult? NotOwned(string key) =>
        key.Length > 0 && Claim is { } claim && !claim.Holds(key)
            ? new OperationResult(ResultCode.NotOwner, Detail: $"key '{key}' is not in this position's range {claim}")
            : null;

    /// <summary>
    /// A page of the keys under the query's prefix, in key order, with the revision it was read at. Scans
    /// every key, and sorts only as many as the page holds. Only keys of the claim, and the claim's epoch.
    /// </summary>
    public OperationResult List(ListQuery query)
    {
        var matching = _values.Current()
            .Where(pair => pair.Key.StartsWith(query.Prefix, StringComparison.Ordinal)
                           && (query.After is null || string.CompareOrdinal(pair.Key, query.After) > 0)
                           && Claim?.Holds(pair.Key) != false)
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Take(query.Limit + 1);
        var keys = new List<ListedKey>();
        var bytes = 0L;
        var more = false;
        foreach (var (key, stored) in matching)
        {
            var value = query.KeysOnly ? ReadOnlyMemory<byte>.Empty : stored.Value;
            bytes += System.Text.Encoding.UTF8.GetByteCount(key) + value.Length;
            if (keys.Count == query.Limit || keys.Count > 0 && bytes > query.MaxBytes)
            {
                more = true;
                break;
            }
            keys.Add(new ListedKey(key, value, stored.Version, stored.CreateRevision, stored.ModRevision));
        }
        return new OperationResult(ResultCode.Ok, Revision: Revision, Listed: new ListPage(keys, more, ClaimEpoch: Claim?.Epoch ?? 0));
    }

    private OperationResult Found(ResultCode code, StoredValue stored, string? detail = null) =>
        new(code, stored.Version, stored.TimestampUnixMs, Detail: detail,
            CreateRevision: stored.CreateRevision, ModRevision: stored.ModRevision, Revision: Revision);

    /// <summary>
    /// Applies a committed entry's writes in order; result i is operation i's. Never throws for any
    /// command: outcomes are results.
    /// </summary>
    public OperationResult[] Apply(CommittedEntry entry)
    {
        var results = new OperationResult[entry.Operations.Count];
        _changes.Clear();
        _leaseChanges.Clear();
        Handover = null;
        if (entry.Index <= AppliedIndex)
        {
            Array.Fill(results, new OperationResult(ResultCode.AlreadyApplied, Detail: $"entry {entry.Index} was already applied"));
            return results;
        }
        AppliedIndex = entry.Index;
        AppliedTerm = entry.Term;
        LastTimestampUnixMs = Math.Max(LastTimestampUnixMs, entry.TimestampUnixMs);

        if (entry.Index % SweepInterval == 0)
            ForgetSilentClients(entry.TimestampUnixMs);
        if (entry.StartsRevisions)
            StartRevisions();
        if (entry.Claim is { } claim)
            TakeClaim(claim, entry.Fence);
        if (entry.Install is { } install)
            Install(install);
        if (entry.DropsUnclaimed)
            Release();
        for (var i = 0; i < results.Length; i++)
            results[i] = Apply(entry.Operations[i], entry.TimestampUnixMs);
        return results;
    }

    private OperationResult Apply(KvOperation command, long timestamp)
    {
        if (command.RequestId is not { } id)
            return Execute(command, timestamp);

        if (!_clients.TryGetForUpdate(id.ClientId, client => client.Copy(), out var client))
            _clients.Set(id.ClientId, client = new ClientSession());
        client.LastSeenUnixMs = Math.Max(client.LastSeenUnixMs, timestamp);
        if (client.Settle(id.ClientId, id.Sequence) is { } settled)
            return settled;

        var result = Execute(command, timestamp);
        // Not applied here, and applied nowhere yet: a retry routed to the key's owner must still run it.
        if (result.Code != ResultCode.NotOwner)
            client.Remember(id.Sequence, result);
        return result;
    }

    /// <summary>
    /// Drops the sessions of clients with no write for <see cref="ClientSession.ForgetAfter"/> of commit time:
    /// a retry that late is treated as a new write. Decided only by the entries, so replay and every
    /// replica forget the same clients at the same index.
    /// </summary>
    private void ForgetSilentClients(long now)
    {
        var cutoff = now - (long)ClientSession.ForgetAfter.TotalMilliseconds;
        _clients.RemoveWhere(client => client.LastSeenUnixMs < cutoff);
    }

    /// <summary>
    /// The baseline: every key present takes revision 1 as its create and modify revision, and changes from
    /// here on are numbered. Applied at the same point of the committed order on every replica, so they all
    /// agree from here on, whatever snapshot each started from. A second baseline (proposed again by a new
    /// leader before it saw the first applied) changes nothing.
    /// </summary>
    private void StartRevisions()
    {
        if (Revision > 0)
            return;
        Revision = 1;
        _values.ChangeEach(stored => stored with { CreateRevision = 1, ModRevision = 1 });
    }

    /// <summary>The revision a change applied now takes: the next, or 0 before the baseline.</summary>
    private long NextRevision() => Revision > 0 ? ++Revision : 0;

    /// <summary>The state as of now, for a snapshot; valid until <see cref="Thaw"/>.</summary>
    public MapSnapshot Freeze() =>
        new(AppliedIndex, AppliedTerm, LastTimestampUnixMs, Revision, _values.Freeze(), _clients.Freeze(), _leases, LeasesGranted, Claim, Move, CopyEpoch, CopyRevision, CopyMove, _givenLeases);

    /// <summary>Folds the writes made since <see cref="Freeze"/> back in; the snapshot must no longer be read.</summary>
    public void Thaw()
    {
        _values.Thaw();
        _clients.Thaw();
    }

    /// <summary>A map holding exactly the state of <paramref name="snapshot"/>.</summary>
    public static KvMap Restore(MapSnapshot snapshot)
    {
        var map = new KvMap
        {
            AppliedIndex = snapshot.LastIndex,
            AppliedTerm = snapshot.LastTerm,
            LastTimestampUnixMs = snapshot.LastTimestampUnixMs,
            Revision = snapshot.Revision,
            LeasesGranted = snapshot.LeasesGranted,
            Claim = snapshot.Claim,
            Move = snapshot.Move,
            CopyEpoch = snapshot.CopyEpoch,
            CopyRevision = snapshot.CopyRevision,
            CopyMove = snapshot.CopyMove,
            _givenLeases = (snapshot.GivenLeases ?? ImmutableDictionary<long, string>.Empty).ToImmutableDictionary(),
        };
        var leases = (snapshot.Leases ?? ImmutableDictionary<long, StoredLease>.Empty).ToDictionary(l => l.Key, l => l.Value.Keys.ToBuilder());
        foreach (var (key, value) in snapshot.Values)
        {
            map._values.Set(key, value);
            if (value.Lease != 0)
                leases[value.Lease].Add(key);
        }
        map._leases = (snapshot.Leases ?? ImmutableDictionary<long, StoredLease>.Empty)
            .ToImmutableDictionary(l => l.Key, l => l.Value with { Keys = leases[l.Key].ToImmutable() });
        foreach (var (id, client) in snapshot.Clients)
            map._clients.Set(id, client);
        return map;
    }

    private OperationResult Execute(KvOperation command, long timestamp)
    {
        if (NotOwned(command) is { } notOwned)
            return notOwned;
        var exists = _values.TryGetValue(command.Key, out var stored);
        switch (command.Kind)
        {
            case OperationKind.LeaseGrant or OperationKind.LeaseKeepAlive or OperationKind.LeaseRevoke or OperationKind.LeaseCheckpoint:
                return ExecuteLease(command);
            case OperationKind.Create or OperationKind.Update when NotAttachable(command) is { } notAttachable:
                return notAttachable;
            case OperationKind.Create when exists:
                return Found(ResultCode.AlreadyExists, stored, $"key '{command.Key}' already exists");
            case OperationKind.Create:
                var created = NextRevision();
                return Store(command, null, new StoredValue(command.Value, 1, timestamp, created, created, command.Lease));
            case OperationKind.Update or OperationKind.Delete when !exists:
                return new OperationResult(ResultCode.NotFound, Detail: $"key '{command.Key}' not found", Revision: Revision);
            case OperationKind.Update or OperationKind.Delete
                when command.ExpectedVersion is { } expected && expected != stored.Version:
                return Found(ResultCode.VersionMismatch, stored, $"key '{command.Key}' is at version {stored.Version}, not {expected}");
            case OperationKind.Update:
                return Store(command, stored, new StoredValue(command.Value, stored.Version + 1, timestamp, stored.CreateRevision, NextRevision(), command.Lease));
            case OperationKind.Delete:
                RemoveValue(command.Key, stored);
                var deleted = stored with { TimestampUnixMs = timestamp, ModRevision = NextRevision() };
                Record(command.Key, stored, null, deleted.ModRevision);
                return Found(ResultCode.Ok, deleted);
            case OperationKind.Txn when command.Txn is { } txn:
                return Execute(txn, timestamp);
            default:
                return Read(command.Key);
        }
    }

    /// <summary>
    /// The branch the comparisons choose, in order, each operation seeing the earlier ones; its changes take
    /// one revision between them (none when it changes nothing).
    /// </summary>
    private OperationResult Execute(Transaction txn, long timestamp)
    {
        var succeeded = txn.Compares.All(Holds);
        var branch = succeeded ? txn.Success : txn.Failure;
        var results = new TransactionOpResult[branch.Count];
        long? revision = null;
        for (var i = 0; i < results.Length; i++)
        {
            var op = branch[i];
            var exists = _values.TryGetValue(op.Key, out var stored);
            switch (op.Kind)
            {
                case TransactionOpKind.Put:
                    var changed = exists
                        ? new StoredValue(op.Value, stored.Version + 1, timestamp, stored.CreateRevision, revision ??= NextRevision())
                        : new StoredValue(op.Value, 1, timestamp, revision ??= NextRevision(), revision.Value);
                    SetValue(op.Key, exists ? stored : null, changed);
                    Record(op.Key, exists ? stored : null, changed, changed.ModRevision);
                    results[i] = Described(op.Key, exists, changed) with { Value = default };
                    break;
                case TransactionOpKind.Delete when exists:
                    RemoveValue(op.Key, stored);
                    Record(op.Key, stored, null, revision ??= NextRevision());
                    results[i] = Described(op.Key, true, stored with { ModRevision = revision.Value }) with { Value = default };
                    break;
                case TransactionOpKind.Read when exists:
                    results[i] = Described(op.Key, true, stored);
                    break;
                default:
                    results[i] = new TransactionOpResult(op.Key, false);
                    break;
            }
        }
        return new OperationResult(ResultCode.Ok, TimestampUnixMs: timestamp, Revision: Revision, Txn: new TransactionOutcome(succeeded, results));
    }

    private static TransactionOpResult Described(string key, bool found, StoredValue stored) =>
        new(key, found, stored.Version, stored.CreateRevision, stored.ModRevision, stored.Value);

    private bool Holds(TransactionCompare compare)
    {
        var exists = _values.TryGetValue(compare.Key, out var stored);
        if (compare.Target == CompareTarget.Value)
            return exists && Compared(stored.Value.Span.SequenceCompareTo(compare.Value.Span), compare.Result);
        var actual = compare.Target switch
        {
            CompareTarget.Version => stored.Version,
            CompareTarget.CreateRevision => stored.CreateRevision,
            _ => stored.ModRevision,
        };
        return Compared(actual.CompareTo(compare.Number), compare.Result);
    }

    private static bool Compared(int order, CompareResult wanted) => wanted switch
    {
        CompareResult.Equal => order == 0,
        CompareResult.NotEqual => order != 0,
        CompareResult.Less => order < 0,
        _ => order > 0,
    };

    private OperationResult Store(KvOperation command, StoredValue? before, StoredValue stored)
    {
        SetValue(command.Key, before, stored);
        Record(command.Key, before, stored, stored.ModRevision);
        return Found(ResultCode.Ok, stored);
    }

    /// <summary>A change for the watchers: the key after it (none when deleted) and before it (none when created).</summary>
    private void Record(string key, StoredValue? before, StoredValue? after, long revision)
    {
        if (revision == 0)
            return;
        var previous = before is { } was ? Listed(key, was) : null;
        _changes.Add(after is { } now
            ? new KeyEvent(KeyEventKind.Put, Listed(key, now), previous)
            : new KeyEvent(KeyEventKind.Delete, new ListedKey(key, ReadOnlyMemory<byte>.Empty, 0, 0, revision), previous));
    }

    private static ListedKey Listed(string key, StoredValue stored) =>
        new(key, stored.Value, stored.Version, stored.CreateRevision, stored.ModRevision);
}
