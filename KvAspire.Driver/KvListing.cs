namespace KvAspire.Driver;

/// <summary>
/// Every key under a prefix (<see cref="IKvClient.ListAllAsync"/>), and where a watch must start to see every
/// change after it: "list, then watch from the list" without a gap. The pages of a long list are read one after
/// another, each position at a later revision than in the page before, so a watch from <see cref="WatchFrom"/>
/// (each position at its first page's revision) may repeat a change a later page already shows:
/// <see cref="Shows"/> tells those apart.
/// </summary>
public sealed class KvListing
{
    private readonly IReadOnlyList<(string? LastKey, IReadOnlyDictionary<int, long> ReadAt)> _pages;

    internal KvListing(IReadOnlyList<KvListItem> items, IReadOnlyList<(string? LastKey, IReadOnlyDictionary<int, long> ReadAt)> pages)
    {
        (Items, _pages) = (items, pages);
        WatchFrom = _pages[0].ReadAt;
    }

    /// <summary>The keys in key order (ordinal), each as its page read it.</summary>
    public IReadOnlyList<KvListItem> Items { get; }

    /// <summary>Per position, the revision to watch after (<see cref="KvWatchOptions.After"/>): every position, items or not.</summary>
    public IReadOnlyDictionary<int, long> WatchFrom { get; }

    /// <summary>
    /// Whether <paramref name="change"/> is already in <see cref="Items"/>: its revision is not past that of the
    /// page its key falls in (a page covers the keys after the page before's last, up to its own last).
    /// </summary>
    public bool Shows(KvEvent change)
    {
        var page = _pages.FirstOrDefault(p => p.LastKey is null || string.CompareOrdinal(change.Key, p.LastKey) <= 0);
        return page.ReadAt is not null && page.ReadAt.TryGetValue(change.Position, out var readAt) && change.Revision <= readAt;
    }
}
