using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>Lists in the map: a page of the keys under a prefix, in key order, within its count and byte budget.</summary>
[Trait("Category", "Unit")]
public sealed class KvMapListTests : AppliedMap
{
    [Fact]
    public void A_list_gives_the_keys_under_its_prefix_in_key_order_a_page_at_a_time()
    {
        Baseline();
        foreach (var key in new[] { "b/2", "a/1", "b/10", "b/1", "c", "b" })
            Apply(OperationKind.Create, key, $"value of {key}");
        ListPage Page(string prefix, string? after, int limit, bool keysOnly = false, int maxBytes = 1 << 20) =>
            Map.List(new ListQuery(prefix, after, limit, keysOnly, maxBytes)).Listed!;

        var first = Page("b/", null, 2);
        var second = Page("b/", first.Keys[^1].Key, 2);
        var all = Page("", null, 100, keysOnly: true);

        Assert.Equal(["b/1", "b/10"], first.Keys.Select(k => k.Key));
        Assert.True(first.More);
        Assert.Equal(["b/2"], second.Keys.Select(k => k.Key));
        Assert.False(second.More);
        Assert.Equal("value of b/1", Encoding.UTF8.GetString(first.Keys[0].Value.Span));
        Assert.Equal((1L, 5L, 5L), (first.Keys[0].Version, first.Keys[0].CreateRevision, first.Keys[0].ModRevision));
        Assert.Equal(["a/1", "b", "b/1", "b/10", "b/2", "c"], all.Keys.Select(k => k.Key));
        Assert.All(all.Keys, key => Assert.True(key.Value.IsEmpty));
        Assert.Equal(7, Map.List(new ListQuery("", null, 1, false, 100)).Revision);
    }

    [Fact]
    public void A_page_stops_past_its_byte_budget_but_always_holds_one_key()
    {
        Apply(OperationKind.Create, "a", new string('x', 600));
        Apply(OperationKind.Create, "b", new string('y', 600));

        var page = Map.List(new ListQuery("", null, 10, false, 1000)).Listed!;
        var tiny = Map.List(new ListQuery("", null, 10, false, 10)).Listed!;

        Assert.Equal(["a"], page.Keys.Select(k => k.Key));
        Assert.True(page.More);
        Assert.Equal(["a"], tiny.Keys.Select(k => k.Key));
        Assert.True(tiny.More);
    }
}
