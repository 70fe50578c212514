using System.Diagnostics;
using System.Runtime.CompilerServices;
using Grpc.Core;
using KvAspire.Driver.Transport;
using KvAspire.Operations;

namespace KvAspire.Driver;

/// <summary>
/// The client library's <see cref="IKvClient"/>: one gRPC channel per node for the client's lifetime,
/// straight to each position's leader once it has learned the ring's layout from the cluster (leader
/// hints), retries across nodes with the same request id, calls on one key in the order made
/// (<see cref="KeyOrderedSender"/>), a deadline per call, and a span and metrics per call
/// (<see cref="KvClientTelemetry"/>).
/// </summary>
public sealed class KvClient : IKvClient, IDisposable
{
    private readonly LeaderHints? _leaders;
    private readonly KvConnection _connection;
    private readonly KeyOrderedSender _sender;

    public KvClient(KvClientOptions options)
    {
        var nodes = options.Validate();
        var channels = NodeChannels.For(options);
        _leaders = options.RouteToLeaders ? new LeaderHints(channels) : null;
        _connection = new KvConnection(nodes, options, channels, _leaders);
        _sender = new KeyOrderedSender(_connection);
    }

    /// <summary>The nodes this client calls, as URLs.</summary>
    public IReadOnlyList<string> Nodes => _connection.Addresses;

    public async Task<KvEntry> ReadAsync(string key, CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync(new KvOperation(OperationKind.Read, key), cancellationToken);
        return new KvEntry(key, reply.Value, reply.Version, DateTimeOffset.FromUnixTimeMilliseconds(reply.TimestampUnixMs), reply.Hops, reply.Node!,
            Revisions(reply));
    }

    public Task<KvWriteResult> CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default) =>
        CreateAsync(key, value, 0, cancellationToken);

    public async Task<KvWriteResult> CreateAsync(string key, ReadOnlyMemory<byte> value, long lease, CancellationToken cancellationToken = default) =>
        Written(await SendAsync(new KvOperation(OperationKind.Create, key, value, Lease: lease), cancellationToken));

    public Task<KvWriteResult> UpdateAsync(string key, ReadOnlyMemory<byte> value, long? expectedVersion = null,
        CancellationToken cancellationToken = default) =>
        UpdateAsync(key, value, expectedVersion, 0, cancellationToken);

    public async Task<KvWriteResult> UpdateAsync(string key, ReadOnlyMemory<byte> value, long? expectedVersion, long lease,
        CancellationToken cancellationToken = default) =>
        Written(await SendAsync(new KvOperation(OperationKind.Update, key, value, expectedVersion, Lease: lease), cancellationToken));

    public async Task<KvLease> GrantLeaseAsync(TimeSpan ttl, string placeWith, CancellationToken cancellationToken = default)
    {
        var reply = await SendAsync(new KvOperation(OperationKind.LeaseGrant, placeWith, LeaseIds.EncodeTtl((long)ttl.TotalMilliseconds)), cancellationToken);
        return new KvLease(this, reply.Result.Lease!.Id, TimeSpan.FromMilliseconds(reply.Result.Lease.TtlMs));
    }

    public async Task<TimeSpan> KeepLeaseAliveAsync(long lease, CancellationToken cancellationToken = default) =>
        TimeSpan.FromMilliseconds((await SendAsync(new KvOperation(OperationKind.LeaseKeepAlive, "", Lease: lease), cancellationToken)).Result.Lease!.TtlMs);

    public async Task<long> RevokeLeaseAsync(long lease, CancellationToken cancellationToken = default) =>
        (await SendAsync(new KvOperation(OperationKind.LeaseRevoke, "", Lease: lease), cancellationToken)).Result.Revision;

    public async Task<KvLeaseStatus> LeaseTimeToLiveAsync(long lease, CancellationToken cancellationToken = default)
    {
        var read = (await SendAsync(new KvOperation(OperationKind.LeaseRead, "", Lease: lease), cancellationToken)).Result.Lease!;
        return new KvLeaseStatus(read.Id, TimeSpan.FromMilliseconds(read.TtlMs), TimeSpan.FromMilliseconds(read.RemainingMs), read.Keys);
    }

    public async Task<KvWriteResult> DeleteAsync(string key, long? expectedVersion = null, CancellationToken cancellationToken = default) =>
        Written(await SendAsync(new KvOperation(OperationKind.Delete, key, default, expectedVersion), cancellationToken));

    public async Task<KvTxnResult> TxnAsync(KvTransaction transaction, CancellationToken cancellationToken = default)
    {
        var txn = transaction.Build();
        var first = txn.Keys.FirstOrDefault() ?? throw new ArgumentException("the transaction names no key", nameof(transaction));
        var reply = await SendAsync(new KvOperation(OperationKind.Txn, first, Txn: txn), cancellationToken);
        var outcome = reply.Result.Txn!;
        return new KvTxnResult(outcome.Succeeded,
            [.. outcome.Results.Select(op => new KvTxnOpResult(op.Key, op.Found, op.Version, new KvRevisions(op.CreateRevision, op.ModRevision, reply.Result.Revision), op.Value))],
            reply.Result.Revision, DateTimeOffset.FromUnixTimeMilliseconds(reply.TimestampUnixMs), reply.Hops, reply.Node!);
    }

    public async IAsyncEnumerable<KvListItem> ListAsync(string prefix = "", bool keysOnly = false,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var page in PagesAsync(prefix, keysOnly, cancellationToken))
        {
            foreach (var item in page.Items)
                yield return item;
        }
    }

    public async Task<KvListing> ListAllAsync(string prefix = "", bool keysOnly = false, CancellationToken cancellationToken = default)
    {
        var items = new List<KvListItem>();
        var pages = new List<(string?, IReadOnlyDictionary<int, long>)>();
        await foreach (var page in PagesAsync(prefix, keysOnly, cancellationToken))
        {
            items.AddRange(page.Items);
            pages.Add((page.Last ? null : page.Items[^1].Key, page.ReadAt));
        }
        return new KvListing(items, pages);
    }

    private async IAsyncEnumerable<(IReadOnlyList<KvListItem> Items, IReadOnlyDictionary<int, long> ReadAt, bool Last)> PagesAsync(
        string prefix, bool keysOnly, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? after = null;
        do
        {
            var query = new ListQuery(prefix, after, ListMessages.DefaultLimit, keysOnly, ListMessages.MaxPageBytes);
            var page = (await SendAsync(new KvOperation(OperationKind.List, prefix, List: query), cancellationToken)).Result.Listed!;
            var readAt = page.ReadAt ?? new Dictionary<int, long>();
            yield return ([.. page.Keys.Select(key => new KvListItem(key.Key, key.Value, key.Version,
                new KvRevisions(key.CreateRevision, key.ModRevision, readAt.GetValueOrDefault(key.Position)), key.Position))], readAt, !page.More);
            after = page.More ? page.Keys[^1].Key : null;
        }
        while (after is not null);
    }

    public async IAsyncEnumerable<KvEvent> WatchAsync(string key, KvWatchOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        options ??= new KvWatchOptions();
        if (key.Length == 0 && !options.Prefix)
            throw new ArgumentException("a watch of one key needs the key (or Prefix to watch every key)", nameof(key));
        var query = new WatchQuery(key, options.Prefix, options.PreviousValues);
        await foreach (var batch in WatchStream.WatchAsync(_connection, query, options.After, options.ProgressRequests, cancellationToken))
        {
            if (batch.Events.Count == 0 && (options.ProgressNotices || batch.AnsweredRequest is not null))
                yield return new KvEvent(KvEventKind.Progress, batch.Position, batch.Revision, "", default, 0, default, null, batch.AnsweredRequest);
            foreach (var change in batch.Events)
                yield return Event(change, batch.Position);
        }
    }

    private static KvEvent Event(KeyEvent change, int position)
    {
        var kv = change.Kv;
        var previous = change.Previous is { } was
            ? new KvListItem(was.Key, was.Value, was.Version, new KvRevisions(was.CreateRevision, was.ModRevision, change.Revision), position)
            : null;
        return new KvEvent(change.Kind == KeyEventKind.Delete ? KvEventKind.Delete : KvEventKind.Put, position, change.Revision, kv.Key, kv.Value,
            kv.Version, new KvRevisions(kv.CreateRevision, kv.ModRevision, change.Revision), previous);
    }

    private async Task<Reply> SendAsync(KvOperation request, CancellationToken cancellationToken)
    {
        using var activity = KvClientTelemetry.Start(request);
        var started = Stopwatch.GetTimestamp();
        var reply = await _sender.SendAsync(request, cancellationToken);
        KvClientTelemetry.Finish(activity, request, reply, Stopwatch.GetElapsedTime(started));
        return reply.IsOk ? reply : throw Failure(request, reply);
    }

    private KvException Failure(KvOperation request, Reply reply)
    {
        var message = reply.Error ?? reply.Status.ToString();
        return reply.Status switch
        {
            StatusCode.NotFound when request.Lease != 0 && (LeaseMessages.CallsLease(request) || message.StartsWith("lease", StringComparison.Ordinal)) =>
                new KvLeaseNotFoundException(request.Lease, message, reply.Node),
            StatusCode.NotFound => new KvKeyNotFoundException(request.Key, message, reply.Node),
            StatusCode.AlreadyExists => new KvKeyExistsException(request.Key, message, reply.Node),
            StatusCode.FailedPrecondition => new KvVersionMismatchException(request.Key, request.ExpectedVersion ?? 0, message, reply.Node),
            StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted =>
                new KvUnavailableException(reply.Status, _leaders?.PositionOf(request.Key), message, reply.Node),
            _ => new KvException(reply.Status, message, reply.Node),
        };
    }

    private static KvWriteResult Written(Reply reply) =>
        new(reply.Version, DateTimeOffset.FromUnixTimeMilliseconds(reply.TimestampUnixMs), reply.Hops, reply.Node!, Revisions(reply));

    private static KvRevisions Revisions(Reply reply) => new(reply.Result.CreateRevision, reply.Result.ModRevision, reply.Result.Revision);

    public void Dispose()
    {
        _connection.Dispose();
        _leaders?.Dispose();
    }
}
