using System.Threading.RateLimiting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using KvAspire.Node.Configuration;
using KvAspire.Node.Peers;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Api;

/// <summary>
/// F1, the bound on the work this node takes on for its callers: at most
/// <see cref="NodeOptions.AdmittedRequests"/> (<c>QueueCapacity</c>) requests in flight. A request beyond
/// that waits for a slot, oldest first, and at most <see cref="NodeOptions.WaitingRequests"/> wait; a
/// request that finds the waiting line full too is refused at once with RESOURCE_EXHAUSTED and changes
/// nothing. A waiting request leaves the line when its caller gives up (its deadline).
/// A call that says it comes from another node (<see cref="NodeHeaders"/>) already holds a slot on the
/// node its client contacted; sharing the clients' slots, two full nodes forwarding to each other would
/// wait on each other. With a cluster secret, such a call proved it is a member's (the secret interceptor
/// runs first) and is not admitted again. Without one, nothing tells a node from a client that sends the
/// same header, so those calls are admitted in a line of their own, with the same bounds: a client cannot
/// skip admission by claiming to be a node. One instance per node (a singleton), so every call shares the
/// same slots.
/// </summary>
public sealed class AdmissionInterceptor : Interceptor, IDisposable
{
    private readonly ConcurrencyLimiter _slots;
    // Calls that say they come from a node, when no secret can prove it; null when one can.
    private readonly ConcurrencyLimiter? _unprovenNodeSlots;
    private readonly int _capacity;
    private readonly int _waiting;

    public AdmissionInterceptor(NodeOptions options, PeerAuthentication peers, NodeTelemetry telemetry)
    {
        (_capacity, _waiting) = (options.AdmittedRequests, options.WaitingRequests);
        _slots = NewLine();
        _unprovenNodeSlots = peers.Enabled ? null : NewLine();
        telemetry.ObserveQueueDepth("F1", () => InFlight);
        telemetry.ObserveQueueDepth("F1-waiting", () => Waiting);
    }

    /// <summary>Requests admitted and not yet answered.</summary>
    public long InFlight => InFlightIn(_slots) + InFlightIn(_unprovenNodeSlots);

    /// <summary>Requests waiting for a slot.</summary>
    public long Waiting => WaitingIn(_slots) + WaitingIn(_unprovenNodeSlots);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var line = NodeHeaders.FromNode(context.RequestHeaders) ? _unprovenNodeSlots : _slots;
        if (line is null)
            return await continuation(request, context);
        using var slot = await line.AcquireAsync(1, context.CancellationToken);
        if (!slot.IsAcquired)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"the node is full: {_capacity} requests in flight and {_waiting} waiting (QueueCapacity); nothing was applied, retry later"));
        }
        return await continuation(request, context);
    }

    private ConcurrencyLimiter NewLine() => new(new ConcurrencyLimiterOptions
    {
        PermitLimit = _capacity,
        QueueLimit = _waiting,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    private long InFlightIn(ConcurrencyLimiter? line) => _capacity - (line?.GetStatistics()?.CurrentAvailablePermits ?? _capacity);

    private static long WaitingIn(ConcurrencyLimiter? line) => line?.GetStatistics()?.CurrentQueuedCount ?? 0;

    public void Dispose()
    {
        _slots.Dispose();
        _unprovenNodeSlots?.Dispose();
    }
}
