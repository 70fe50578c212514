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
/// that waits for a slot, oldest first, and at most <see cref="NodeOptions.WaitingRequests"/> wait; a request that finds the waiting line full too is refused at once with RESOURCE_EXHAUSTED and
/// changes nothing. A waiting request leaves the line when its caller gives up (its deadline).
/// A call from another node (<see cref="NodeHeaders"/>) already holds a slot on the node its client
/// contacted, so it is not admitted again: two full nodes forwarding to each other would otherwise wait
/// on each other. One instance per node (a singleton), so every call shares the same slots.
/// </summary>
public sealed class AdmissionInterceptor : Interceptor, IDisposable
{
    private readonly ConcurrencyLimiter _slots;
    private readonly int _capacity;
    private readonly int _waiting;

    public AdmissionInterceptor(NodeOptions options, NodeTelemetry telemetry)
    {
        (_capacity, _waiting) = (options.AdmittedRequests, options.WaitingRequests);
        _slots = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _capacity,
            QueueLimit = _waiting,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        telemetry.ObserveQueueDepth("F1", () => InFlight);
        telemetry.ObserveQueueDepth("F1-waiting", () => Waiting);
    }

    /// <summary>Requests admitted and not yet answered.</summary>
    public long InFlight => _capacity - (_slots.GetStatistics()?.CurrentAvailablePermits ?? _capacity);

    /// <summary>Requests waiting for a slot.</summary>
    public long Waiting => _slots.GetStatistics()?.CurrentQueuedCount ?? 0;

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (NodeHeaders.FromNode(context.RequestHeaders))
            return await continuation(request, context);
        using var slot = await _slots.AcquireAsync(1, context.CancellationToken);
        if (!slot.IsAcquired)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"the node is full: {_capacity} requests in flight and {_waiting} waiting (QueueCapacity); nothing was applied, retry later"));
        }
        return await continuation(request, context);
    }

    public void Dispose() => _slots.Dispose();
}
