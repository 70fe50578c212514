using KvAspire.Node.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvAspire.Tests.Support;

/// <summary>A node's data directory for storage tests: files written by the real writers, read back by the real recovery.</summary>
public sealed class NodeDataDirectory : IDisposable
{
    private readonly TempDirectory _directory = new();

    public string Path => _directory.Path;

    public string File(string name) => _directory.File(name);

    /// <summary>Recovers as a starting node would, then closes the log it opened.</summary>
    public RecoveredState Recover()
    {
        var state = Recovery.Run(Path, 1 << 20, NullLogger.Instance);
        state.Log.Dispose();
        return state;
    }

    public void Dispose() => _directory.Dispose();
}
