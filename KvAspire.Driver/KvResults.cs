namespace KvAspire.Driver;

/// <summary>
/// A key's value as read: its version (1 at creation, +1 per update), when that version was committed,
/// the ring hops the read took and the node that answered (a URL).
/// </summary>
public sealed record KvEntry(string Key, ReadOnlyMemory<byte> Value, long Version, DateTimeOffset CommittedAt, int Hops, string Node)
{
    /// <summary>The value as UTF-8 text.</summary>
    public string Text => System.Text.Encoding.UTF8.GetString(Value.Span);
}

/// <summary>A write's outcome: the key's version after it, when it was committed, the ring hops it took and the node that answered.</summary>
public sealed record KvWriteResult(long Version, DateTimeOffset CommittedAt, int Hops, string Node);
