using KvAspire.Node.Ring;
using KvAspire.Operations;

namespace KvAspire.Tests.Unit;

/// <summary>The ring's page from its positions' pages: in key order, and never past a key a position may still have before it.</summary>
[Trait("Category", "Unit")]
public sealed class ListMergeTests
{
    private static ListPart Part(int position, long revision, bool more, params string[] keys) =>
        new(position, revision, [.. keys.Select(key => new ListedKey(key, "v"u8.ToArray(), 1, 1, 1))], more);

    [Fact]
    public void The_page_stops_at_the_last_key_of_a_position_that_has_more_and_says_so()
    {
        var page = ListMerge.Merge([Part(0, 7, true, "a", "d"), Part(1, 3, false, "b", "c", "e", "f")], 10, 1 << 20);

        Assert.Equal([("a", 0), ("b", 1), ("c", 1), ("d", 0)], page.Keys.Select(k => (k.Key, k.Position)));
        Assert.True(page.More);
        Assert.Equal(new Dictionary<int, long> { [0] = 7, [1] = 3 }, page.ReadAt);
    }

    [Fact]
    public void The_limit_and_the_byte_budget_cut_the_page_and_the_last_page_says_no_more()
    {
        var parts = new[] { Part(0, 1, false, "a", "c"), Part(1, 1, false, "b") };

        var limited = ListMerge.Merge(parts, 2, 1 << 20);
        var budgeted = ListMerge.Merge(parts, 10, 3);
        var whole = ListMerge.Merge(parts, 3, 1 << 20);
        var empty = ListMerge.Merge([Part(0, 1, false), Part(1, 1, false)], 3, 1 << 20);

        Assert.Equal(["a", "b"], limited.Keys.Select(k => k.Key));
        Assert.True(limited.More);
        Assert.Equal(["a"], budgeted.Keys.Select(k => k.Key));
        Assert.True(budgeted.More);
        Assert.Equal(["a", "b", "c"], whole.Keys.Select(k => k.Key));
        Assert.False(whole.More);
        Assert.Equal((0, false), (empty.Keys.Count, empty.More));
    }
}
