namespace KvAspire.Node.Pipeline;

/// <summary>
/// What travels through F2 and F3: a <see cref="PendingRequest"/>, or a <see cref="SnapshotMarker"/>
/// that marks the point of the order where snapshot X is taken.
/// </summary>
public abstract class PipelineItem;
