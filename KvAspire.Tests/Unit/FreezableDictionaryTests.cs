using KvAspire.Node.Storage;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class FreezableDictionaryTests
{
    private readonly FreezableDictionary<string> _dictionary = new();

    [Fact]
    public void The_frozen_view_keeps_its_contents_while_writes_go_on()
    {
        _dictionary.Set("a", "1");
        _dictionary.Set("b", "2");

        var view = _dictionary.Freeze();
        _dictionary.Set("a", "changed");
        _dictionary.Remove("b");
        _dictionary.Set("c", "new");

        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }, view);
        Assert.True(_dictionary.TryGetValue("a", out var a) && a == "changed");
        Assert.False(_dictionary.TryGetValue("b", out _));
        Assert.True(_dictionary.TryGetValue("c", out var c) && c == "new");
        Assert.Equal(2, _dictionary.Count);
    }

    [Fact]
    public void Thaw_folds_the_changes_back_in()
    {
        _dictionary.Set("a", "1");
        _dictionary.Set("b", "2");
        _dictionary.Freeze();
        _dictionary.Remove("a");
        _dictionary.Set("b", "3");
        _dictionary.Set("a", "again");
        _dictionary.Remove("b");

        _dictionary.Thaw();

        Assert.False(_dictionary.IsFrozen);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "again" }, _dictionary.Freeze());
        Assert.Equal(1, _dictionary.Count);
    }

    [Fact]
    public void A_value_updated_in_place_while_frozen_is_copied_first()
    {
        var shared = new List<int> { 1 };
        var lists = new FreezableDictionary<List<int>>();
        lists.Set("k", shared);
        var view = lists.Freeze();

        Assert.True(lists.TryGetForUpdate("k", list => [.. list], out var writable));
        writable.Add(2);
        Assert.True(lists.TryGetForUpdate("k", list => throw new InvalidOperationException("copied twice"), out var again));

        Assert.Same(writable, again);
        Assert.Equal([1], view["k"]);
        Assert.Equal([1, 2], again);
    }

    [Fact]
    public void Freezing_twice_without_thawing_is_refused()
    {
        _dictionary.Freeze();
        Assert.Throws<InvalidOperationException>(() => _dictionary.Freeze());
    }
}
