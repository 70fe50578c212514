using KvAspire.Routing;

namespace KvAspire.Node.Errors;

/// <summary>
/// A node this one forwarded to has a newer layout of the ring than the one the forward was routed with:
/// it refused the request before doing anything with it, and sent its layout. The request is routed again
/// with that layout (<c>Api/RequestExecution</c>).
/// </summary>
public sealed class StaleRouteException(RingLayout layout, string detail) : Exception(detail)
{
    public RingLayout Layout { get; } = layout;
}
