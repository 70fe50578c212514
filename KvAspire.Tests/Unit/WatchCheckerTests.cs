using System.Text;
using KvAspire.Driver;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>The nemesis runs' watch checker finds each thing it is meant to: gaps, duplicates, disorder (of a position, or of a key across positions), split revisions, phantoms.</summary>
[Trait("Category", "Unit")]
public sealed class WatchCheckerTests
{
    private static readonly Dictionary<int, long> Started = new() { [0] = 1 };

    private static readonly HistoryOperation[] History =
    [
        new("a", HistoryKind.Create, "1", null, 1, 2, HistoryOutcome.Ok, SeenVersion: 1, ModRevision: 2),
        new("b", HistoryKind.Create, "1", null, 3, 4, HistoryOutcome.Ok, SeenVersion: 1, ModRevision: 3),
        new("a", HistoryKind.Update, "2", null, 5, long.MaxValue, HistoryOutcome.Unknown),
        new("b", HistoryKind.Delete, null, null, 6, 7, HistoryOutcome.Ok, SeenVersion: 1, ModRevision: 5),
    ];

    private static KvEvent Put(string key, string value, long revision) =>
        new(KvEventKind.Put, 0, revision, key, Encoding.UTF8.GetBytes(value), 1, new KvRevisions(revision, revision, revision), null);

    private static KvEvent Delete(string key, long revision) => new(KvEventKind.Delete, 0, revision, key, default, 0, default, null);

    private static IReadOnlyList<string> Check(params KvEvent[] events) => WatchChecker.Check(events, History, Started, _ => 0);

    [Fact]
    public void Every_write_once_in_order_with_a_write_whose_answer_never_came_is_clean() =>
        Assert.Empty(Check(Put("a", "1", 2), Put("b", "1", 3), Put("a", "2", 4), Delete("b", 5)));

    [Fact]
    public void A_missing_event_a_duplicate_disorder_and_a_phantom_are_each_found()
    {
        Assert.Contains("no event for create b", Assert.Single(Check(Put("a", "1", 2), Delete("b", 5))));
        Assert.Contains("2 events for a at revision 2", Assert.Single(Check(Put("a", "1", 2), Put("a", "1", 2), Put("b", "1", 3), Delete("b", 5))));
        Assert.Contains(Check(Put("b", "1", 3), Put("a", "1", 2), Delete("b", 5)), line => line.Contains("came after"));
        Assert.Contains(Check(Put("a", "1", 2), Put("b", "1", 3), Put("a", "9", 4), Delete("b", 5)), line => line.Contains("is no write of the history"));
    }

    [Fact]
    public void A_revision_split_by_another_and_an_event_at_the_start_are_found()
    {
        var history = History.Append(new HistoryOperation("c", HistoryKind.Create, "1", null, 1, 2, HistoryOutcome.Ok, SeenVersion: 1, ModRevision: 3));
        var split = WatchChecker.Check([Put("a", "1", 2), Put("b", "1", 3), Put("a", "2", 4), Put("c", "1", 3), Delete("b", 5)], history, Started, _ => 0);
        var atStart = WatchChecker.Check([Put("a", "1", 1)], History, Started, _ => 0);

        Assert.Contains(split, line => line.Contains("revision 3 was split"));
        Assert.Contains(atStart, line => line.Contains("at or before the watch's start"));
    }

    [Fact]
    public void A_keys_events_out_of_revision_order_across_positions_are_found()
    {
        var started = new Dictionary<int, long> { [0] = 1, [1] = 1 };
        int? PositionOf(HistoryOperation write) => write is { Key: "a", Kind: HistoryKind.Update } ? 1 : 0;

        var inOrder = WatchChecker.Check([Put("a", "1", 2), Put("b", "1", 3), Put("a", "2", 4) with { Position = 1 }, Delete("b", 5)], History, started, PositionOf);
        var reversed = WatchChecker.Check([Put("a", "2", 4) with { Position = 1 }, Put("a", "1", 2), Put("b", "1", 3), Delete("b", 5)], History, started, PositionOf);

        Assert.Empty(inOrder);
        Assert.Contains("key a: PUT a '1' at revision 2 at position 0 came after PUT a '2' at revision 4 at position 1", Assert.Single(reversed), StringComparison.OrdinalIgnoreCase);
    }
}
