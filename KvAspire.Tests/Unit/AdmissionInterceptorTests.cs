using Grpc.Core;
using KvAspire.Node.Api;
using KvAspire.Node.Configuration;
using KvAspire.Node.Peers;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>
/// F1 in process: at most QueueCapacity requests run, as many more wait oldest first, and the next is
/// refused with RESOURCE_EXHAUSTED without running; calls from other nodes are not admitted again.
/// Each "request" is a handler held open until the test lets it finish.
/// </summary>
[Trait("Category", "Unit")]
public sealed class AdmissionInterceptorTests : IDisposable
{
    private const string Method = "/kvaspire.v1.KeyValue/Create";
    private readonly AdmissionInterceptor _admission =
        new(new NodeOptions { ElectionTimeout = TimeSpan.FromMilliseconds(600), AdmittedRequests = 2 }.Validate(), TestTelemetry.Create());
    private readonly List<string> _started = [];

    public void Dispose() => _admission.Dispose();

    /// <summary>Starts request <paramref name="name"/>; it holds its slot until <paramref name="finish"/> completes.</summary>
    private Task<string> Call(string name, Task finish, Metadata? headers = null, CancellationToken cancellationToken = default) =>
        _admission.UnaryServerHandler<string, string>(name, new TestCallContext(Method, headers, cancellationToken), async (request, _) =>
        {
            lock (_started)
                _started.Add(request);
            await finish;
            return request;
        });

    private string[] Started()
    {
        lock (_started)
            return [.. _started];
    }

    [Fact]
    public async Task Requests_beyond_the_capacity_wait_and_run_oldest_first_as_slots_free()
    {
        var finishA = new TaskCompletionSource();
        var finishB = new TaskCompletionSource();
        var a = Call("a", finishA.Task);
        var b = Call("b", finishB.Task);
        var c = Call("c", Task.CompletedTask);
        var d = Call("d", Task.CompletedTask);

        Assert.Equal(["a", "b"], Started());
        Assert.Equal((2L, 2L), (_admission.InFlight, _admission.Waiting));

        finishA.SetResult();
        Assert.Equal("a", await a);
        Assert.Equal("c", await c.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("d", await d.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(["a", "b", "c", "d"], Started());
        finishB.SetResult();
        await b;
        Assert.Equal((0L, 0L), (_admission.InFlight, _admission.Waiting));
    }

    [Fact]
    public async Task A_request_that_finds_the_waiting_line_full_gets_RESOURCE_EXHAUSTED_and_never_runs()
    {
        var finish = new TaskCompletionSource();
        var held = new[] { Call("a", finish.Task), Call("b", finish.Task), Call("c", finish.Task), Call("d", finish.Task) };

        var refused = await Assert.ThrowsAsync<RpcException>(() => Call("e", Task.CompletedTask));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("nothing was applied", refused.Status.Detail);
        finish.SetResult();
        await Task.WhenAll(held).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("e", Started());
    }

    [Fact]
    public async Task A_waiting_request_whose_caller_gives_up_leaves_the_line_without_running()
    {
        var finish = new TaskCompletionSource();
        var held = new[] { Call("a", finish.Task), Call("b", finish.Task) };
        using var giveUp = new CancellationTokenSource();
        var waiting = Call("c", Task.CompletedTask, cancellationToken: giveUp.Token);
        Assert.Equal(1L, _admission.Waiting);

        giveUp.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0L, _admission.Waiting);
        finish.SetResult();
        await Task.WhenAll(held);
        Assert.DoesNotContain("c", Started());
    }

    [Fact]
    public async Task A_call_forwarded_by_another_node_runs_without_taking_a_slot()
    {
        var finish = new TaskCompletionSource();
        var held = new[] { Call("a", finish.Task), Call("b", finish.Task) };

        var forwarded = Call("forwarded", Task.CompletedTask, new Metadata { { NodeHeaders.Hops, "1" } });

        Assert.Equal("forwarded", await forwarded.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2L, _admission.InFlight);
        finish.SetResult();
        await Task.WhenAll(held);
    }
}
