namespace KvAspire.Node.Pipeline;

/// <summary>
/// What travels through F1, F2 and F3: a client's <see cref="Command"/>, or a <see cref="SnapshotMarker"/>
/// that marks the point of the order where snapshot X is taken.
/// </summary>
public abstract class PipelineItem;
