using KvAspire.Groups;

namespace KvAspire.Node.Telemetry;

/// <summary>The process's memory as <c>/status</c> reports it (<see cref="NodeMemory"/>).</summary>
public static class MemoryReading
{
    public static NodeMemory Now()
    {
        // A full collection is either blocking or background; the later of the two is the last one.
        var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        var full = blocking.Index >= background.Index ? blocking : background;
        return new NodeMemory(
            Environment.WorkingSet,
            GC.GetGCMemoryInfo().HeapSizeBytes,
            full.Index == 0 ? 0 : full.HeapSizeBytes - full.FragmentedBytes,
            GC.CollectionCount(GC.MaxGeneration));
    }
}
