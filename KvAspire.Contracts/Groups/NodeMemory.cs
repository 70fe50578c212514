namespace KvAspire.Groups;

/// <summary>
/// A node's memory, as its <c>/status</c> reports it. <c>ResidentBytes</c>: the process's resident set.
/// <c>GcHeapBytes</c>: the .NET heap as the last collection left it. <c>GcLiveBytesAfterFullCollection</c>:
/// what the last full collection found still reachable (0 before the first), the figure that grows
/// without bound when the node keeps something it should let go. <c>FullCollections</c>: how many full
/// collections there have been, so that a reader can tell a new figure from the one before.
/// </summary>
public sealed record NodeMemory(long ResidentBytes, long GcHeapBytes, long GcLiveBytesAfterFullCollection, int FullCollections);
