namespace KvAspire.Operations;

public enum KeyEventKind
{
    Put = 0,
    Delete = 1,
}

/// <summary>
/// One change a position applied to one key, as a watcher sees it: the key as it is after the change (for a
/// delete: its key, no value, version 0, and the delete's revision as <see cref="ListedKey.ModRevision"/>),
/// and as it was before (null when it did not exist). <see cref="Revision"/> is the change's: the events of
/// one transaction share it.
/// </summary>
public sealed record KeyEvent(KeyEventKind Kind, ListedKey Kv, ListedKey? Previous)
{
    public long Revision => Kv.ModRevision;

    public string Key => Kv.Key;

    /// <summary>What the event holds in memory, near enough to bound a history by it.</summary>
    public long Bytes => 2 * Key.Length + Kv.Value.Length + (Previous?.Value.Length ?? 0) + 160;
}

/// <summary>
/// What a watch asks for: one key, or every key under a prefix (all keys when it is empty); with each change's
/// previous value when <see cref="PreviousValues"/>.
/// </summary>
public sealed record WatchQuery(string Key, bool Prefix, bool PreviousValues)
{
    public bool Matches(string key) => Prefix ? key.StartsWith(Key, StringComparison.Ordinal) : key == Key;
}

/// <summary>
/// A position's events of one or more whole revisions in revision order, or, with none, a progress notice:
/// either way the watcher now has every matching event of <see cref="Position"/> up to <see cref="Revision"/>.
/// <see cref="AnsweredRequest"/>: the watcher's request for progress this is the position's answer to (and to
/// every earlier one; its revision is at or past every change acknowledged before the request), null when none.
/// </summary>
public sealed record WatchBatch(int Position, long Revision, IReadOnlyList<KeyEvent> Events, long? AnsweredRequest = null);
