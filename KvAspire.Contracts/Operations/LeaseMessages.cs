using Grpc.Core;
using KvAspire.V1;

namespace KvAspire.Operations;

/// <summary>The Lease service's messages to operations and results and back: one place for the client library and the node.</summary>
public static class LeaseMessages
{
    /// <summary>The longest TTL a lease may ask for: a day (a longer-lived key needs no lease).</summary>
    public const long MaxTtlMs = 24L * 60 * 60 * 1000;

    /// <summary>A grant; its id's position part is the node's to stamp (it knows the ring).</summary>
    public static KvOperation ToOperation(LeaseGrantRequest request)
    {
        if (request.TtlMs is < 1 or > MaxTtlMs)
            throw OperationMessages.Invalid($"a lease's TTL is from 1 ms to {MaxTtlMs} ms (a day), not {request.TtlMs}");
        if (request.PlaceWith.Length == 0)
            throw OperationMessages.Invalid("a lease needs place_with: a key it will hold, or one with the {tag} its keys share");
        return new KvOperation(OperationKind.LeaseGrant, request.PlaceWith, LeaseIds.EncodeTtl(request.TtlMs), null, OperationMessages.ToRequestId(request.Id));
    }

    public static KvOperation ToOperation(LeaseKeepAliveRequest request) => new(OperationKind.LeaseKeepAlive, PlacedWith(request.PlaceWith), Lease: Id(request.Lease));

    public static KvOperation ToOperation(LeaseRevokeRequest request) => new(OperationKind.LeaseRevoke, PlacedWith(request.PlaceWith), Lease: Id(request.Lease));

    public static KvOperation ToOperation(LeaseTimeToLiveRequest request) => new(OperationKind.LeaseRead, PlacedWith(request.PlaceWith), Lease: Id(request.Lease));

    public static LeaseGrantRequest ToGrantRequest(KvOperation grant) =>
        new() { TtlMs = LeaseIds.DecodeTtl(grant.Value.Span), PlaceWith = grant.Key, Id = OperationMessages.ToMessage(grant.RequestId) };

    public static LeaseGrantReply ToGrantReply(OperationResult granted, int hops) =>
        new() { Lease = granted.Lease!.Id, TtlMs = granted.Lease.TtlMs, Position = LeaseIds.Position(granted.Lease.Id), Hops = hops };

    public static LeaseTimeToLiveReply ToTimeToLiveReply(LeaseInfo lease)
    {
        var reply = new LeaseTimeToLiveReply { Lease = lease.Id, TtlMs = lease.TtlMs, RemainingMs = lease.RemainingMs };
        reply.Keys.AddRange(lease.Keys);
        return reply;
    }

    public static OperationResult ToResult(LeaseGrantReply reply) =>
        new(ResultCode.Ok, Lease: new LeaseInfo(reply.Lease, reply.TtlMs, reply.TtlMs, 0, []));

    public static OperationResult ToResult(LeaseTimeToLiveReply reply) =>
        new(ResultCode.Ok, Lease: new LeaseInfo(reply.Lease, reply.TtlMs, reply.RemainingMs, 0, [.. reply.Keys]));

    /// <summary>The key a lease's call names it placed with (empty: none), checked as any key is.</summary>
    private static string PlacedWith(string key) => key.Length == 0 ? key : OperationMessages.Key(key);

    private static long Id(long lease) =>
        LeaseIds.IsValid(lease) ? lease : throw OperationMessages.Invalid($"{lease} is not a lease id");

    /// <summary>One lease operation as one call of the Lease service (a keep-alive as a stream of one).</summary>
    /// <exception cref="RpcException">The status the node answered, when not OK.</exception>
    public static async Task<Answer> SendAsync(V1.Lease.LeaseClient client, KvOperation operation, CallOptions options)
    {
        switch (operation.Kind)
        {
            case OperationKind.LeaseGrant:
                using (var call = client.GrantAsync(ToGrantRequest(operation), options))
                {
                    var reply = await call;
                    return new Answer(ToResult(reply), reply.Hops, Groups.LeaderHint.Of(call.GetTrailers()));
                }
            case OperationKind.LeaseKeepAlive:
                using (var call = client.KeepAlive(options))
                {
                    await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { Lease = operation.Lease, PlaceWith = operation.Key });
                    await call.RequestStream.CompleteAsync();
                    if (!await call.ResponseStream.MoveNext(options.CancellationToken))
                        throw new RpcException(new Status(StatusCode.Unavailable, "the keep-alive ended without an answer"));
                    var kept = call.ResponseStream.Current;
                    return kept.TtlMs > 0
                        ? new Answer(new OperationResult(ResultCode.Ok, Lease: new LeaseInfo(kept.Lease, kept.TtlMs, kept.TtlMs, 0, [])), 0, null)
                        : throw new RpcException(new Status(StatusCode.NotFound, $"lease {kept.Lease} not found: it expired, was revoked, or never was"));
                }
            case OperationKind.LeaseRevoke:
                using (var call = client.RevokeAsync(new LeaseRevokeRequest { Lease = operation.Lease, PlaceWith = operation.Key }, options))
                {
                    var reply = await call;
                    return new Answer(new OperationResult(ResultCode.Ok, Revision: reply.Revision), 0, Groups.LeaderHint.Of(call.GetTrailers()));
                }
            case OperationKind.LeaseRead:
                using (var call = client.TimeToLiveAsync(new LeaseTimeToLiveRequest { Lease = operation.Lease, PlaceWith = operation.Key }, options))
                    return new Answer(ToResult(await call), 0, Groups.LeaderHint.Of(call.GetTrailers()));
            default:
                throw new ArgumentException($"{operation.Kind} is not a lease operation", nameof(operation));
        }
    }

    /// <summary>Whether an operation is one of a lease's own calls (keep-alive, revoke, read), which name it by its id.</summary>
    public static bool CallsLease(KvOperation operation) =>
        operation.Kind is OperationKind.LeaseKeepAlive or OperationKind.LeaseRevoke or OperationKind.LeaseRead;

    /// <summary>
    /// Whether an operation is routed by its lease's id, to the position that granted it: a lease's own call
    /// naming no key it was placed with (one that does is routed by that key, as a grant is).
    /// </summary>
    public static bool RoutedByLease(KvOperation operation) => CallsLease(operation) && operation.Key.Length == 0;

    public static bool IsLease(KvOperation operation) => CallsLease(operation) || operation.Kind == OperationKind.LeaseGrant;
}
