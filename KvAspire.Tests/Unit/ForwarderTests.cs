using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Ring;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The forwarder in process, on a ring of 2 positions × 3 replicas where no peer runs: what it answers
/// without sending anything: a position cut off, a routing loop.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ForwarderTests : IDisposable
{
    private readonly RequestPathParts _node = new(positions: 2);
    private readonly LocalRing _ring;
    private readonly Forwarder _forwarder;

    public ForwarderTests() => (_ring, _forwarder) = (_node.Ring, _node.Forwarder);

    public void Dispose() => _node.Dispose();

    /// <summary>A read of a key that position 1 owns.</summary>
    private PendingRequest ReadOfPosition1(int hopsSoFar = 0)
    {
        var key = Enumerable.Range(0, 1000).Select(i => $"key{i}").First(k => _ring.Locate(k).Owner == 1);
        return new PendingRequest(new KvOperation(OperationKind.Read, key), default, hopsSoFar) { Route = _ring.Locate(key) };
    }

    [Fact]
    public async Task A_position_none_of_whose_replicas_can_be_reached_is_answered_unavailable_at_once_naming_it()
    {
        foreach (var replica in _ring.NodesByPosition[1])
            _node.Reachability.Unreachable(new PeerUnreachableException(replica, "connection refused", new HttpRequestException("connection refused")));

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => _forwarder.ForwardAsync(ReadOfPosition1(), _ring.Current, CancellationToken.None));

        Assert.Equal(FailureKind.Unavailable, failure.Kind);
        Assert.StartsWith("position 1 is unreachable: none of its replicas (p1r0 at ", failure.Message);
        Assert.Equal(0, _forwarder.InFlight);
    }

    [Fact]
    public async Task A_request_that_has_taken_as_many_hops_as_the_ring_has_positions_is_a_routing_loop_an_internal_failure()
    {
        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => _forwarder.ForwardAsync(ReadOfPosition1(hopsSoFar: 2), _ring.Current, CancellationToken.None));

        Assert.Equal(FailureKind.Internal, failure.Kind);
        Assert.Equal("routing loop: 2 hops for a ring of 2 positions", failure.Message);
    }
}
