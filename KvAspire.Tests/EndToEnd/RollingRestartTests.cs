using System.Diagnostics;
using System.Globalization;
using KvAspire.Tests.Support;
using Xunit.Abstractions;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// The assignment's scenario (R-TST-2): a ring of 2 positions × 3 replicas takes creates, reads, updates
/// and deletes from concurrent clients through every node while one replica after another — leaders
/// included, never two of one position at once — is stopped (SIGTERM or kill -9) and started again.
/// Nothing acknowledged may be lost, nothing applied twice, no read may be stale.
/// The run lasts <c>KVASPIRE_ROLLING_SECONDS</c> (120 by default).
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(RollingRestartCollection.Name)]
public sealed class RollingRestartTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Restarting_one_replica_per_position_at_a_time_loses_no_write_and_serves_no_stale_read()
    {
        var duration = TimeSpan.FromSeconds(int.Parse(
            Environment.GetEnvironmentVariable("KVASPIRE_ROLLING_SECONDS") ?? "120", CultureInfo.InvariantCulture));
        // Short snapshot interval: snapshots, log compaction and snapshot transfer all happen during the run.
        var topology = TestTopology.Ring(_directory, positions: 2, snapshotIntervalSeconds: 3, replicas: 3);
        await using var cluster = await LocalCluster.StartAsync(topology);
        var workload = new RegisterWorkload(topology.Nodes.Select(n => n.GrpcAddress).ToList(), clients: 8, keysPerClient: 12);

        using var stop = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        var running = workload.RunAsync(stop.Token);
        var events = await RestartReplicasAsync(cluster, stop.Token);
        await running;
        var restartCount = events.Count;

        foreach (var node in topology.Nodes)
            await cluster.WaitCaughtUpAsync(node, TimeSpan.FromSeconds(30));
        await workload.VerifyAsync();

        output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: {workload.Acknowledged} writes acknowledged, {workload.Reads} reads checked, " +
                         $"{workload.Unanswered} requests unanswered (retried or resolved by a read), {restartCount} restarts");
        foreach (var line in events)
            output.WriteLine(line);
        Assert.True(workload.Violations.IsEmpty, string.Join(Environment.NewLine, workload.Violations.Take(20)));
        var checking = Stopwatch.StartNew();
        var verdict = LinearizabilityChecker.Check(workload.History);
        output.WriteLine($"linearizability checker: {workload.History.Count} operations, " +
                         $"{(verdict.IsLinearizable ? "linearizable" : "NOT linearizable")}, in {checking.ElapsedMilliseconds} ms");
        Assert.True(verdict.IsLinearizable, $"{verdict.Key}: {verdict.Explanation}");
        Assert.True(restartCount >= 4, $"only {restartCount} restarts happened");
        Assert.True(workload.Acknowledged > 100, $"only {workload.Acknowledged} writes were acknowledged");
    }

    /// <summary>
    /// Round after round, position by position: the leader on even rounds, a follower on odd ones; kill -9
    /// every other time, SIGTERM otherwise; down for a moment; back, and caught up before the next.
    /// </summary>
    private static async Task<List<string>> RestartReplicasAsync(LocalCluster cluster, CancellationToken stop)
    {
        var events = new List<string>();
        var random = new Random(7);
        var positions = cluster.Topology.Nodes.Select(n => n.Position).Distinct().Order().ToList();
        var clock = Stopwatch.StartNew();
        for (var round = 0; !stop.IsCancellationRequested; round++)
        {
            var position = positions[round % positions.Count];
            var leader = await cluster.WaitForLeaderAsync(position, TimeSpan.FromSeconds(30));
            var followers = cluster.Topology.ReplicasOf(position).Where(n => n != leader).ToList();
            var victim = round / positions.Count % 2 == 0 ? leader : followers[random.Next(followers.Count)];
            var kill = round / (2 * positions.Count) % 2 == 0;

            if (kill)
                await cluster.KillAsync(victim);
            else
                Assert.Equal(0, await cluster.StopAsync(victim));
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(300, 2000)), CancellationToken.None);
            await cluster.StartAsync(victim);
            await cluster.WaitCaughtUpAsync(victim, TimeSpan.FromSeconds(30));
            events.Add($"{clock.Elapsed.TotalSeconds,6:F1} s  {(kill ? "kill -9" : "SIGTERM"),-7} {victim.Name}{(victim == leader ? " (leader)" : "")}, back and caught up");
        }
        return events;
    }
}

/// <summary>Six node processes: not alongside other end-to-end topologies on two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RollingRestartCollection
{
    public const string Name = "Rolling restart";
}
