namespace KvAspire.Driver;

/// <summary>
/// A key's value as read: its version (1 at creation, +1 per update), when that version was committed,
/// the ring hops the read took, the node that answered (a URL), and the key's <see cref="Revisions"/>.
/// </summary>
public sealed record KvEntry(string Key, ReadOnlyMemory<byte> Value, long Version, DateTimeOffset CommittedAt, int Hops, string Node,
    KvRevisions Revisions)
{
    /// <summary>The value as UTF-8 text.</summary>
    public string Text => System.Text.Encoding.UTF8.GetString(Value.Span);
}

/// <summary>
/// A write's outcome: the key's version after it, when it was committed, the ring hops it took, the node
/// that answered, and the key's <see cref="Revisions"/> after it.
/// </summary>
public sealed record KvWriteResult(long Version, DateTimeOffset CommittedAt, int Hops, string Node, KvRevisions Revisions);

/// <summary>
/// Where a key stands in its position's numbered changes: <see cref="Create"/> is the revision of the
/// change that created it, <see cref="Modify"/> that of its latest change (for a delete, of the delete
/// itself), <see cref="Position"/> the position's revision when the call was applied or read. A position
/// counts its changes one by one, so a later change of any of its keys has a higher revision; revisions
/// of different positions are not comparable. All 0 while a position with older data has not started
/// counting.
/// </summary>
public readonly record struct KvRevisions(long Create, long Modify, long Position);

/// <summary>
/// A transaction's outcome: whether its conditions held (the <c>Then</c> branch ran), one result per
/// operation of the branch taken, in order, the position's revision after it (its writes' revision when
/// it wrote), when it was committed, the ring hops it took and the node that answered.
/// </summary>
public sealed record KvTxnResult(bool Succeeded, IReadOnlyList<KvTxnOpResult> Results, long Revision, DateTimeOffset CommittedAt, int Hops, string Node);

/// <summary>
/// One operation of a transaction: whether its key existed (a put: before it; a delete: and is now gone; a
/// read: and was read), and the key as the operation left it (a read's value included).
/// </summary>
public sealed record KvTxnOpResult(string Key, bool Found, long Version, KvRevisions Revisions, ReadOnlyMemory<byte> Value)
{
    /// <summary>The value as UTF-8 text.</summary>
    public string Text => System.Text.Encoding.UTF8.GetString(Value.Span);
}

/// <summary>
/// A key as listed: its value (empty when only keys were asked for), version, revisions (their
/// <see cref="KvRevisions.Position"/> is the position's revision its page was read at) and position.
/// </summary>
public sealed record KvListItem(string Key, ReadOnlyMemory<byte> Value, long Version, KvRevisions Revisions, int Position)
{
    /// <summary>The value as UTF-8 text.</summary>
    public string Text => System.Text.Encoding.UTF8.GetString(Value.Span);
}

public enum KvEventKind
{
    Put,
    Delete,

    /// <summary>No change: the watch has every event of <see cref="KvEvent.Position"/> up to <see cref="KvEvent.Revision"/>.</summary>
    Progress,
}

/// <summary>
/// A change seen by a watch (or, of kind <see cref="KvEventKind.Progress"/>, a point it has reached): its
/// position and revision (the events of one transaction share one), the key, its value and version after the
/// change (a delete: none, version 0), its <see cref="Revisions"/>, and the key before the change when the
/// watch asked for previous values and the key existed. A watch resumes from the last revision of each
/// position it has seen: keep them (a revision vector) to start a later watch where this one stopped.
/// A <see cref="KvEventKind.Progress"/> event with an <see cref="AnsweredRequest"/> is its position's answer to
/// that request of <see cref="KvWatchProgress.RequestAsync"/> (and to every earlier one).
/// </summary>
public sealed record KvEvent(KvEventKind Kind, int Position, long Revision, string Key, ReadOnlyMemory<byte> Value, long Version,
    KvRevisions Revisions, KvListItem? Previous, long? AnsweredRequest = null)
{
    /// <summary>The value as UTF-8 text.</summary>
    public string Text => System.Text.Encoding.UTF8.GetString(Value.Span);
}

/// <summary>What a watch watches and from where.</summary>
public sealed record KvWatchOptions
{
    /// <summary>Watch every key that starts with the key given (every key when it is empty), rather than that one key.</summary>
    public bool Prefix { get; init; }

    /// <summary>
    /// Per position, the revision the watch has every event up to (a list's <c>Revisions.Position</c> of each
    /// position, or the last revision of each position a former watch saw); positions not named are watched
    /// from now, once the named have caught up (one that took the watched keys since is followed from then).
    /// </summary>
    public IReadOnlyDictionary<int, long>? After { get; init; }

    /// <summary>Give each event the key as it was before the change.</summary>
    public bool PreviousValues { get; init; }

    /// <summary>
    /// Lets the app ask the watch for progress while it runs (<see cref="KvWatchProgress.RequestAsync"/>); one per watch.
    /// </summary>
    public KvWatchProgress? ProgressRequests { get; init; }

    /// <summary>
    /// Yield <see cref="KvEventKind.Progress"/> events: where each position's watch starts, and a notice from a
    /// position idle for a second, so that the app can save its revisions while nothing changes.
    /// </summary>
    public bool ProgressNotices { get; init; }
}

/// <summary>
/// Asks a running watch (given it in <see cref="KvWatchOptions.ProgressRequests"/>) for progress: each
/// position it watches answers with a <see cref="KvEventKind.Progress"/> event whose
/// <see cref="KvEvent.AnsweredRequest"/> is the request's number, at a revision at or past every change
/// acknowledged anywhere before the request, once every change up to it has been yielded. A cache fed by the
/// watch is then as fresh as a linearizable read (Kubernetes' consistent reads from its watch cache rest on
/// this). A request made while the watch moves to another node is sent again there; an answer to an earlier
/// request may still arrive after a later one is made, with its own number.
/// </summary>
public sealed class KvWatchProgress
{
    private Func<Task<long>>? _request;

    /// <summary>
    /// Sends a request on the watch's stream (again on the next one, if the stream fails before every position
    /// answered); returns its number (1, 2, … per watch).
    /// </summary>
    public Task<long> RequestAsync() => Volatile.Read(ref _request)?.Invoke() ?? throw new InvalidOperationException("the watch has not started: enumerate it first");

    internal void Attach(Func<Task<long>> request)
    {
        if (Interlocked.CompareExchange(ref _request, request, null) is not null)
            throw new InvalidOperationException("a KvWatchProgress serves one watch");
    }
}
