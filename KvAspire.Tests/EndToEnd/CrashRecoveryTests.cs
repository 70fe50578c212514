extern alias client;
using System.Collections.Concurrent;
using client::KvAspire.Client.Commands;
using client::KvAspire.Client.Connection;
using Grpc.Core;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>Stop a node under load (kill -9, or SIGTERM) and restart it: every acknowledged write is back.</summary>
[Trait("Category", "EndToEnd")]
public sealed class CrashRecoveryTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Every_acknowledged_write_survives_a_stop_during_writes(bool kill9)
    {
        var topology = TestTopology.SingleNode(_directory);
        var acknowledged = new ConcurrentDictionary<string, long>();

        for (var round = 0; round < 3; round++)
        {
            await using var node = await NodeProcess.StartAsync(topology);
            using var connection = new KvConnection([topology.GrpcAddress], TimeSpan.FromSeconds(5));
            await AssertAcknowledgedWritesPresentAsync(connection, acknowledged);

            var target = acknowledged.Count + 1500;
            var writers = Enumerable.Range(0, 32).Select(w => WriteUntilUnavailableAsync(connection, $"r{round}w{w}", acknowledged)).ToList();
            await WaitUntilAsync(() => acknowledged.Count >= target, TimeSpan.FromSeconds(60));
            if (kill9)
                await node.KillAsync();
            else
                Assert.Equal(0, await node.StopAsync());
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30));
        }

        await using var restarted = await NodeProcess.StartAsync(topology);
        using var final = new KvConnection([topology.GrpcAddress], TimeSpan.FromSeconds(5));
        await AssertAcknowledgedWritesPresentAsync(final, acknowledged);
        Assert.True(acknowledged.Count >= 4500, $"only {acknowledged.Count} writes were acknowledged");
    }

    /// <summary>
    /// Creates keys and updates each twice, recording the version of every acknowledged write, until the
    /// node stops answering. The value of version v is "v{v}".
    /// </summary>
    private static async Task WriteUntilUnavailableAsync(KvConnection connection, string prefix, ConcurrentDictionary<string, long> acknowledged)
    {
        for (var i = 0; ; i++)
        {
            var key = $"{prefix}-{i}";
            var reply = await connection.ExecuteAsync(new ClientCommand(CommandKind.Create, key, "v1"));
            for (var version = 1; reply.IsOk; version++)
            {
                Assert.Equal(version, reply.Version);
                acknowledged[key] = version;
                if (version == 3)
                    break;
                reply = await connection.ExecuteAsync(new ClientCommand(CommandKind.Update, key, $"v{version + 1}", version));
            }
            if (!reply.IsOk)
            {
                Assert.Contains(reply.Status, new[] { StatusCode.Unavailable, StatusCode.DeadlineExceeded, StatusCode.Cancelled, StatusCode.Internal });
                return;
            }
        }
    }

    private static async Task AssertAcknowledgedWritesPresentAsync(KvConnection connection, ConcurrentDictionary<string, long> acknowledged)
    {
        foreach (var (key, version) in acknowledged)
        {
            var read = await connection.ExecuteAsync(new ClientCommand(CommandKind.Read, key));
            Assert.True(read.IsOk, $"acknowledged key {key} is missing: {read.Status} {read.Error}");
            Assert.True(read.Version >= version, $"{key} is at version {read.Version}, but version {version} was acknowledged");
            Assert.Equal($"v{read.Version}", read.Value);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (!condition())
            await Task.Delay(10, cancel.Token);
    }
}
