using System.Diagnostics;
using KvAspire.Driver;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// Writes sent to a follower, as a client that does not know the topology sends them, on the 1×3 group of
/// <see cref="SharedGroupCollection"/>: the follower hands them to its leader, those waiting together in
/// one call, and each comes back with its own result (its own revision too), its own error, and its own trace.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(SharedGroupCollection.Name)]
public sealed class FollowerWriteTests(KvClientTests.Group group)
{
    private async Task<(TestNode Leader, TestNode Follower)> LeaderAndFollowerAsync()
    {
        var leader = await group.Cluster.WaitForLeaderAsync(0, TimeSpan.FromSeconds(30));
        return (leader, group.Cluster.Topology.Nodes.First(n => n != leader));
    }

    [Fact]
    public async Task Writes_from_many_callers_at_a_follower_at_once_are_each_applied_once_in_each_caller_s_order()
    {
        var (leader, follower) = await LeaderAndFollowerAsync();
        using var atFollower = new KvClient(new KvClientOptions { Nodes = [follower.GrpcEndPoint], RouteToLeaders = false });
        using var atLeader = new KvClient(new KvClientOptions { Nodes = [leader.GrpcEndPoint] });

        // 64 callers, each writing its own key 20 times: a caller's next write waits for its last answer.
        var callers = Enumerable.Range(0, 64).Select(caller => Task.Run(async () =>
        {
            var key = $"handed-{caller}";
            var written = new List<KvWriteResult> { await atFollower.CreateAsync(key, "0") };
            for (var i = 1; i < 20; i++)
                written.Add(await atFollower.UpdateAsync(key, $"{i}"));
            return (Key: key, Written: written);
        })).ToArray();
        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(120));

        foreach (var (key, written) in callers.Select(c => c.Result))
        {
            Assert.Equal(Enumerable.Range(1, 20).Select(v => (long)v), written.Select(w => w.Version));
            var revisions = written.Select(w => w.Revisions.Modify).ToList();
            Assert.Equal(revisions.Order(), revisions);
            var read = await atLeader.ReadAsync(key);
            Assert.Equal(("19", 20L, revisions[^1], revisions[0]), (read.Text, read.Version, read.Revisions.Modify, read.Revisions.Create));
        }
        // Each write its own revision of the position, whatever the entry and the hand-off it shared.
        var all = callers.SelectMany(c => c.Result.Written).Select(w => w.Revisions.Modify).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.DoesNotContain(0L, all);
    }

    [Fact]
    public async Task A_write_that_fails_at_the_leader_gets_its_own_error_and_the_writes_handed_over_with_it_their_results()
    {
        var (_, follower) = await LeaderAndFollowerAsync();
        using var client = new KvClient(new KvClientOptions { Nodes = [follower.GrpcEndPoint], RouteToLeaders = false });
        await client.CreateAsync("handed-taken", "first");

        // Sent together, so that they wait for the same call to the leader.
        var good = Enumerable.Range(0, 16).Select(i => client.CreateAsync($"handed-good-{i}", "v")).ToArray();
        var taken = client.CreateAsync("handed-taken", "second");
        var stale = client.UpdateAsync("handed-taken", "third", expectedVersion: 7);
        var missing = client.DeleteAsync("handed-missing");

        Assert.All(await Task.WhenAll(good), written => Assert.Equal(1, written.Version));
        await Assert.ThrowsAsync<KvKeyExistsException>(() => taken);
        await Assert.ThrowsAsync<KvVersionMismatchException>(() => stale);
        await Assert.ThrowsAsync<KvKeyNotFoundException>(() => missing);
        var read = await client.ReadAsync("handed-taken");
        Assert.Equal(("first", 1L), (read.Text, read.Version));
    }

    [Fact]
    public async Task A_write_at_a_follower_is_one_trace_with_the_leader_s_spans_under_the_follower_s_hand_off_span()
    {
        var (leader, follower) = await LeaderAndFollowerAsync();
        using var client = new KvClient(new KvClientOptions { Nodes = [follower.GrpcEndPoint], RouteToLeaders = false });
        await client.CreateAsync("handed-traced", "v");

        // The test's own span is the trace's root: the client's call carries it to the follower.
        using var root = new Activity("test").SetIdFormat(ActivityIdFormat.W3C);
        root.ActivityTraceFlags = ActivityTraceFlags.Recorded;
        root.Start();
        await client.DeleteAsync("handed-traced");
        root.Stop();
        var traceId = root.TraceId.ToHexString();

        // Every span's parent is in the trace, but the follower's server span's: the client's own HTTP span.
        List<ReceivedSpan> Trace() => group.Traces.Spans.Where(s => s.TraceId == traceId).ToList();
        bool Whole(List<ReceivedSpan> spans) =>
            spans.Count(s => spans.All(p => p.SpanId != s.ParentSpanId)) == 1 &&
            new[] { "POST /kvaspire.v1.KeyValue/Delete", "hand off delete", "apply delete" }.All(name => spans.Any(s => s.Name == name));
        await Wait.UntilAsync(() => Whole(Trace()), TimeSpan.FromSeconds(30), "the spans of the write handed to the leader");

        var trace = Trace();
        Assert.Equal("POST /kvaspire.v1.KeyValue/Delete", Assert.Single(trace, s => trace.All(p => p.SpanId != s.ParentSpanId)).Name);
        var handOff = Assert.Single(trace, s => s.Name == "hand off delete");
        Assert.Equal(leader.Name, handOff.Attributes["kvaspire.leader"]);
        var apply = Assert.Single(trace, s => s.Name == "apply delete");
        var ancestors = new List<string>();
        for (var span = apply; span is not null; span = trace.FirstOrDefault(p => p.SpanId == span.ParentSpanId))
            ancestors.Add(span.SpanId);
        Assert.Contains(handOff.SpanId, ancestors);
        Assert.DoesNotContain(trace, s => s.Name.Contains("HandOffWrites", StringComparison.Ordinal));
    }
}
