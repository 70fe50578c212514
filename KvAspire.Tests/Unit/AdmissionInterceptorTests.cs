using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.Node.Api;
using KvAspire.Node.Configuration;
using KvAspire.Node.Peers;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>
/// F1 in process: at most QueueCapacity requests run, as many more wait oldest first, and the next is
/// refused with RESOURCE_EXHAUSTED without running; calls from other nodes are not admitted again when the
/// cluster secret proves them a member's, and are admitted in a bounded line of their own when nothing can.
/// Each "request" is a handler held open until the test lets it finish.
/// </summary>
[Trait("Category", "Unit")]
public sealed class AdmissionInterceptorTests : IDisposable
{
    private const string Method = "/kvaspire.v1.KeyValue/Create";
    private static readonly Metadata FromNode = new() { { NodeHeaders.Hops, "1" } };
    private readonly List<string> _started = [];
    private AdmissionInterceptor _admission = Admission(secret: null);

    public void Dispose() => _admission.Dispose();

    private static AdmissionInterceptor Admission(string? secret) =>
        new(new NodeOptions { ElectionTimeout = TimeSpan.FromMilliseconds(600), AdmittedRequests = 2 }.Validate(), new PeerAuthentication(new ClusterSecret(secret), MemberTls.None, new HashSet<string>()),
            TestTelemetry.Create());

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
    public async Task With_a_cluster_secret_a_call_forwarded_by_another_node_runs_without_taking_a_slot()
    {
        // The secret interceptor, which runs before admission, has refused any such call without the secret.
        _admission.Dispose();
        _admission = Admission("s3cret");
        var finish = new TaskCompletionSource();
        var held = new[] { Call("a", finish.Task), Call("b", finish.Task) };

        var forwarded = Call("forwarded", Task.CompletedTask, FromNode);

        Assert.Equal("forwarded", await forwarded.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2L, _admission.InFlight);
        finish.SetResult();
        await Task.WhenAll(held);
    }

    [Fact]
    public async Task Without_a_cluster_secret_a_call_that_says_it_comes_from_a_node_cannot_skip_admission()
    {
        var finish = new TaskCompletionSource();
        var clients = new[] { Call("a", finish.Task), Call("b", finish.Task) };
        // A line of their own, as bounded as the clients': 2 run, 2 wait, the next is refused.
        var claimed = new[] { Call("n1", finish.Task, FromNode), Call("n2", finish.Task, FromNode), Call("n3", finish.Task, FromNode),
            Call("n4", finish.Task, FromNode) };

        var refused = await Assert.ThrowsAsync<RpcException>(() => Call("n5", Task.CompletedTask, FromNode));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal(["a", "b", "n1", "n2"], Started());
        Assert.Equal((4L, 2L), (_admission.InFlight, _admission.Waiting));
        finish.SetResult();
        await Task.WhenAll(clients.Concat(claimed)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("n5", Started());
    }
}
