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
