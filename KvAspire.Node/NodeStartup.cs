using KvAspire.Node.Storage;

namespace KvAspire.Node;

/// <summary>
/// What the start-up sequence in <c>Program.cs</c> produces before the node serves, set there in order.
/// Services built from it (the pipeline, the state machine) are created only after it is set: resolving
/// one earlier is a mistake in that sequence and fails at once.
/// </summary>
public sealed class NodeStartup
{
    private RecoveredState? _recovered;

    /// <summary>The map and the open log, rebuilt from the data directory.</summary>
    public RecoveredState Recovered
    {
        get => _recovered ?? throw new InvalidOperationException("the node's data has not been recovered yet: Program.cs recovers before anything starts");
        set => _recovered = _recovered is null ? value : throw new InvalidOperationException("the node's data is recovered once");
    }
}
