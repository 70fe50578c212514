using Grpc.Core;
using KvAspire.Routing;

namespace KvAspire.Tests.Unit;

/// <summary>A connection closed under a call is UNAVAILABLE (retry elsewhere); other INTERNAL errors stay what they are.</summary>
[Trait("Category", "Unit")]
public sealed class TransportFailureTests
{
    [Fact]
    public void A_connection_the_server_closed_is_unavailable()
    {
        var closed = new RpcException(new Status(StatusCode.Internal, "Error starting gRPC call",
            new HttpRequestException("The HTTP/2 server closed the connection.")));

        Assert.True(TransportFailure.IsUnavailable(closed));
        var mapped = TransportFailure.AsUnavailable(closed);
        Assert.Equal(StatusCode.Unavailable, mapped.StatusCode);
        Assert.Equal("Error starting gRPC call", mapped.Status.Detail);
    }

    [Fact]
    public void Other_failures_keep_their_status()
    {
        var internalError = new RpcException(new Status(StatusCode.Internal, "routing loop"));
        var notFound = new RpcException(new Status(StatusCode.NotFound, "key 'k' not found"));

        Assert.False(TransportFailure.IsUnavailable(internalError));
        Assert.Same(internalError, TransportFailure.AsUnavailable(internalError));
        Assert.Same(notFound, TransportFailure.AsUnavailable(notFound));
        Assert.True(TransportFailure.IsUnavailable(new RpcException(new Status(StatusCode.Unavailable, "down"))));
    }

    [Fact]
    public void A_request_stream_write_the_node_closed_under_is_unavailable_and_other_failures_are_not_taken_for_one()
    {
        var closed = new HttpProtocolException(0, "The HTTP/2 server closed the connection. HTTP/2 error code 'NO_ERROR' (0x0).", null);
        var rpc = new RpcException(new Status(StatusCode.Unavailable, "down"));

        Assert.Equal(StatusCode.Unavailable, TransportFailure.OfStreamWrite(closed)?.StatusCode);
        Assert.Same(closed, TransportFailure.OfStreamWrite(closed)?.Status.DebugException);
        Assert.Equal(StatusCode.Unavailable, TransportFailure.OfStreamWrite(new IOException("reset"))?.StatusCode);
        Assert.Same(rpc, TransportFailure.OfStreamWrite(rpc));
        Assert.Null(TransportFailure.OfStreamWrite(new ArgumentException("a bug")));
        Assert.Null(TransportFailure.OfStreamWrite(new OperationCanceledException()));
    }
}
