using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// A change of the keys a position holds, as its history keeps it for watchers: at <see cref="Revision"/>
/// (a revision of its own, with no events), the keys of <see cref="Range"/> left for another position (the
/// giver's fence) or came from one (the taker's claim, or a giver's when it takes back a move given up).
/// </summary>
public sealed record RangeHandover(long Revision, OwnedRange Range, WatchHandover Handover)
{
    /// <summary>Whether the handover concerns a watch: a prefix may hold keys of any range.</summary>
    public bool Concerns(WatchQuery query) => query.Prefix || Range.Holds(query.Key);
}
