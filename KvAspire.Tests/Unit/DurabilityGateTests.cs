using KvAspire.Node.Pipeline;
using KvAspire.Node.Storage;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The durability gate, the one owner of a request's completion: an answer is given only once the log is
/// durable up to what it depends on, and never after the log has failed.
/// </summary>
[Trait("Category", "Unit")]
public sealed class DurabilityGateTests : IDisposable
{
    private readonly NodeDataDirectory _data = new();
    private readonly DurabilityGate _gate;

    public DurabilityGateTests() => _gate = new DurabilityGate(_data.Recover());

    public void Dispose() => _data.Dispose();

    private static PendingRequest Request(string key) => new(new KvOperation(OperationKind.Read, key), default);

    private static OperationResult Version(long version) => new(ResultCode.Ok, version);

    [Fact]
    public async Task An_answer_is_held_until_the_log_is_durable_up_to_its_index()
    {
        var request = Request("a");
        _gate.Release(request, Version(5), index: 5);

        _gate.MarkDurable(4);
        Assert.False(request.Result.IsCompleted);

        _gate.MarkDurable(5);
        Assert.Equal(5, (await request.Result).Version);
    }

    [Fact]
    public async Task Every_answer_at_or_below_the_durable_index_is_given_and_none_above_it()
    {
        var (first, second, third) = (Request("a"), Request("b"), Request("c"));
        _gate.Release(first, Version(1), index: 1);
        _gate.Release(second, Version(2), index: 2);
        _gate.Release(third, Version(3), index: 3);

        _gate.MarkDurable(2);

        Assert.Equal((1L, 2L), ((await first.Result).Version, (await second.Result).Version));
        Assert.False(third.Result.IsCompleted);
    }

    [Fact]
    public async Task An_answer_that_depends_on_nothing_newer_than_the_durable_index_is_given_at_once()
    {
        _gate.MarkDurable(7);
        var read = Request("a");

        _gate.Release(read, Version(3), index: 6);

        Assert.Equal(3, (await read.Result).Version);
    }

    [Fact]
    public async Task Once_the_log_has_failed_no_answer_is_given_neither_waiting_nor_later()
    {
        var waiting = Request("a");
        _gate.Release(waiting, Version(1), index: 1);
        var failure = new IOException("the node cannot write its operation log");

        _gate.Fail(failure);
        var later = Request("b");
        _gate.Release(later, Version(0), index: 0);

        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => waiting.Result));
        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => later.Result));
    }
}
