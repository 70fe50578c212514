namespace KvAspire.Node.Pipeline;

/// <summary>
/// What travels through F2 and F3: the writes of a committed entry (<see cref="CommittedWrites"/>), a
/// read (<see cref="PendingRequest"/>, F3 only), or a <see cref="SnapshotMarker"/> that marks the point of
/// the order where snapshot X is taken.
/// </summary>
public abstract class PipelineItem;
