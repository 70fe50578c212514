using Grpc.Core;
using KvAspire.Node.Api;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Operations;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The node's errors are its own until the gRPC edge, which maps them in one place; what another node
/// answers is read back the same way: its map's answers as answers, its failures as failures.
/// </summary>
[Trait("Category", "Unit")]
public sealed class StatusMappingTests
{
    [Theory]
    [InlineData(FailureKind.Unavailable, StatusCode.Unavailable)]
    [InlineData(FailureKind.DeadlineExceeded, StatusCode.DeadlineExceeded)]
    [InlineData(FailureKind.Cancelled, StatusCode.Cancelled)]
    [InlineData(FailureKind.InvalidArgument, StatusCode.InvalidArgument)]
    [InlineData(FailureKind.Overloaded, StatusCode.ResourceExhausted)]
    [InlineData(FailureKind.Internal, StatusCode.Internal)]
    public void A_failure_is_one_status_at_the_edge_and_the_same_failure_when_another_node_answers_it(FailureKind kind, StatusCode status)
    {
        var atEdge = StatusMapping.ToRpcException(new RequestFailedException(kind, "why"));

        Assert.Equal((status, "why"), (atEdge.StatusCode, atEdge.Status.Detail));
        Assert.Null(PeerStatus.AsResult(status, "why"));
        Assert.Equal(kind, PeerStatus.AsFailure(status, "why").Kind);
    }

    [Theory]
    [InlineData(ResultCode.NotFound, StatusCode.NotFound)]
    [InlineData(ResultCode.AlreadyExists, StatusCode.AlreadyExists)]
    [InlineData(ResultCode.VersionMismatch, StatusCode.FailedPrecondition)]
    [InlineData(ResultCode.ResultForgotten, StatusCode.Aborted)]
    public void An_answer_of_the_map_is_a_status_at_the_edge_and_an_answer_again_when_another_node_sends_it(ResultCode code, StatusCode status)
    {
        var atEdge = StatusMapping.ToRpcException(new OperationResult(code, Detail: "detail"));

        Assert.Equal((status, "detail"), (atEdge.StatusCode, atEdge.Status.Detail));
        var back = Assert.NotNull(PeerStatus.AsResult(status, "detail"));
        Assert.Equal(status, ResultStatus.ToStatusCode(back.Code));
        Assert.Equal("detail", back.Detail);
    }

    [Fact]
    public void Only_failures_that_may_pass_are_worth_retrying()
    {
        Assert.Equal([FailureKind.Unavailable, FailureKind.DeadlineExceeded],
            Enum.GetValues<FailureKind>().Where(k => new RequestFailedException(k, "").IsWorthRetrying));
    }
}
