using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>The checker accepts what a linearizable store may answer and rejects planted anomalies.</summary>
[Trait("Category", "Unit")]
public sealed class LinearizabilityCheckerTests
{
    private static HistoryOperation Create(string value, long call, long ret, HistoryOutcome outcome = HistoryOutcome.Ok) =>
        new("k", HistoryKind.Create, value, null, call, ret, outcome, SeenVersion: outcome == HistoryOutcome.Ok ? 1 : 0);

    private static HistoryOperation Update(string value, long call, long ret, long newVersion, long? expected = null, HistoryOutcome outcome = HistoryOutcome.Ok) =>
        new("k", HistoryKind.Update, value, expected, call, ret, outcome, SeenVersion: newVersion);

    private static HistoryOperation Read(string? value, long version, long call, long ret) =>
        value is null
            ? new("k", HistoryKind.Read, null, null, call, ret, HistoryOutcome.NotFound)
            : new("k", HistoryKind.Read, null, null, call, ret, HistoryOutcome.Ok, value, version);

    private static HistoryOperation Delete(long call, long ret, long version, long? expected = null) =>
        new("k", HistoryKind.Delete, null, expected, call, ret, HistoryOutcome.Ok, SeenVersion: version);

    private static HistoryOperation Unanswered(HistoryOperation op) => op with { Outcome = HistoryOutcome.Unknown, Return = long.MaxValue };

    private static void AssertLinearizable(params HistoryOperation[] history)
    {
        var verdict = LinearizabilityChecker.Check(history);
        Assert.True(verdict.IsLinearizable, verdict.Explanation);
    }

    private static void AssertRejected(params HistoryOperation[] history) =>
        Assert.False(LinearizabilityChecker.Check(history).IsLinearizable);

    [Fact]
    public void A_sequential_history_with_every_kind_of_answer_is_accepted() =>
        AssertLinearizable(
            Read(null, 0, 0, 1),
            Create("a", 2, 3),
            Create("x", 4, 5, HistoryOutcome.AlreadyExists),
            Update("b", 6, 7, 2, expected: 1),
            new HistoryOperation("k", HistoryKind.Update, "c", 1, 8, 9, HistoryOutcome.VersionMismatch),
            Read("b", 2, 10, 11),
            Delete(12, 13, 2),
            Read(null, 0, 14, 15));

    [Fact]
    public void A_read_overlapping_a_write_may_see_either_side_of_it()
    {
        AssertLinearizable(Create("a", 0, 1), Update("b", 2, 10, 2), Read("a", 1, 3, 4));
        AssertLinearizable(Create("a", 0, 1), Update("b", 2, 10, 2), Read("b", 2, 3, 4));
    }

    [Fact]
    public void A_stale_read_is_rejected() =>
        AssertRejected(Create("a", 0, 1), Update("b", 2, 3, 2), Read("a", 1, 4, 5));

    [Fact]
    public void A_lost_write_is_rejected()
    {
        AssertRejected(Create("a", 0, 1), Update("b", 2, 3, 2), Read(null, 0, 4, 5));
        AssertRejected(Create("a", 0, 1), Delete(2, 3, 1), Read("a", 1, 4, 5));
    }

    [Fact]
    public void A_write_applied_twice_is_rejected() =>
        AssertRejected(Create("a", 0, 1), Update("b", 2, 3, 2), Read("b", 3, 4, 5));

    [Fact]
    public void An_unanswered_write_may_have_happened_or_not_but_not_both()
    {
        AssertLinearizable(Create("a", 0, 1), Unanswered(Update("b", 2, 3, 2)), Read("a", 1, 4, 5));
        AssertLinearizable(Create("a", 0, 1), Unanswered(Update("b", 2, 3, 2)), Read("b", 2, 4, 5));
        AssertRejected(Create("a", 0, 1), Unanswered(Update("b", 2, 3, 2)), Read("b", 2, 4, 5), Read("a", 1, 6, 7));
    }

    [Fact]
    public void Keys_are_checked_apart_and_the_verdict_names_the_bad_one()
    {
        var verdict = LinearizabilityChecker.Check([
            Create("a", 0, 1),
            Read("a", 1, 2, 3),
            Create("a", 0, 1) with { Key = "other" },
            Read(null, 0, 2, 3) with { Key = "other" },
        ]);

        Assert.False(verdict.IsLinearizable);
        Assert.Equal("other", verdict.Key);
    }

    [Fact]
    public void Many_concurrent_operations_are_checked_quickly()
    {
        // 8 writers updating one key concurrently in waves, readers seeing the latest: a wide search.
        var history = new List<HistoryOperation> { Create("v0", 0, 1) };
        var version = 1L;
        for (var wave = 0; wave < 40; wave++)
        {
            var start = 10 + wave * 100;
            for (var writer = 0; writer < 8; writer++)
                history.Add(Update($"w{wave}.{writer}", start + writer, start + 50, ++version));
            history.Add(Read($"w{wave}.7", version, start + 60, start + 70));
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();

        AssertLinearizable([.. history]);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }
}
