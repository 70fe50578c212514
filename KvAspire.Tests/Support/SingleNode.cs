namespace KvAspire.Tests.Support;

/// <summary>A one-node cluster running in a directory of its own; disposing stops it and removes the files.</summary>
public sealed class SingleNode : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private SingleNode(TempDirectory directory, TestTopology topology, NodeProcess process)
    {
        _directory = directory;
        Topology = topology;
        Process = process;
    }

    public TestTopology Topology { get; }

    public NodeProcess Process { get; }

    public static async Task<SingleNode> StartAsync(int maxValueBytes = 1024 * 1024)
    {
        var directory = new TempDirectory();
        var topology = TestTopology.SingleNode(directory, maxValueBytes);
        return new SingleNode(directory, topology, await NodeProcess.StartAsync(topology));
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        _directory.Dispose();
    }
}
