using System.Collections.Concurrent;
using Grpc.Core;
using KvAspire.Client.Commands;
using KvAspire.Driver.Transport;
using KvAspire.Operations;

namespace KvAspire.Tests.Support;

/// <summary>
/// Writers that record every acknowledged write, and the check that all of them are still there. Each
/// key is created, then updated twice; the value of version v is "v{v}" followed by padding.
/// </summary>
internal sealed class AcknowledgedWrites(int valueBytes = 16)
{
    private readonly ConcurrentDictionary<string, long> _versions = new();

    public int Count => _versions.Count;

    /// <summary>Runs <paramref name="writers"/> writers until the node stops answering.</summary>
    public IReadOnlyList<Task> Start(KvConnection connection, string prefix, int writers) =>
        Enumerable.Range(0, writers).Select(w => WriteUntilUnavailableAsync(connection, $"{prefix}w{w}")).ToList();

    private string Value(long version) => $"v{version}".PadRight(valueBytes, '.');

    private async Task WriteUntilUnavailableAsync(KvConnection connection, string prefix)
    {
        for (var i = 0; ; i++)
        {
            var key = $"{prefix}-{i}";
            var reply = await connection.ExecuteAsync(new ConsoleCommand(OperationKind.Create, key, Value(1)));
            for (var version = 1; reply.IsOk; version++)
            {
                Assert.Equal(version, reply.Version);
                _versions[key] = version;
                if (version == 3)
                    break;
                reply = await connection.ExecuteAsync(new ConsoleCommand(OperationKind.Update, key, Value(version + 1), version));
            }
            if (!reply.IsOk)
            {
                Assert.Contains(reply.Status, new[] { StatusCode.Unavailable, StatusCode.DeadlineExceeded, StatusCode.Cancelled, StatusCode.Internal });
                return;
            }
        }
    }

    /// <summary>Every acknowledged key is there, at its acknowledged version or a later one, with that version's value.</summary>
    public async Task AssertAllPresentAsync(KvConnection connection)
    {
        foreach (var (key, version) in _versions)
        {
            var read = await connection.ExecuteAsync(new ConsoleCommand(OperationKind.Read, key));
            Assert.True(read.IsOk, $"acknowledged key {key} is missing: {read.Status} {read.Error}");
            Assert.True(read.Version >= version, $"{key} is at version {read.Version}, but version {version} was acknowledged");
            Assert.Equal(Value(read.Version), read.Text);
        }
    }

    public Task WaitForCountAsync(int count, TimeSpan timeout) =>
        Wait.UntilAsync(() => Count >= count, timeout, $"{count} acknowledged writes");
}
