using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>The revision checker accepts what a position that numbers its changes may answer and rejects planted anomalies.</summary>
[Trait("Category", "Unit")]
public sealed class RevisionCheckerTests
{
    private static HistoryOperation Write(string key, long call, long ret, long revision) =>
        new(key, HistoryKind.Update, "v", null, call, ret, HistoryOutcome.Ok, SeenVersion: 2, ModRevision: revision, Revision: revision);

    private static HistoryOperation Read(string key, long call, long ret, long modRevision, long revision) =>
        new(key, HistoryKind.Read, null, null, call, ret, HistoryOutcome.Ok, "v", 2, modRevision, revision);

    /// <summary>Keys "a…" on position 0, the rest on position 1.</summary>
    private static IReadOnlyList<string> Check(params HistoryOperation[] history) =>
        RevisionChecker.Check(history, o => o.Key.StartsWith('a') ? 0 : 1);

    [Fact]
    public void Revisions_that_rise_in_real_time_and_overlapping_operations_in_either_order_are_accepted()
    {
        Assert.Empty(Check(
            Write("a1", 0, 10, 5),
            Write("a2", 5, 20, 4),          // overlaps the first: applied before it
            Read("a1", 21, 30, 5, 6),
            Write("a2", 31, 40, 7),
            Write("b1", 0, 50, 3),          // another position counts on its own
            Read("b1", 51, 60, 3, 3),
            Write("a1", 41, 45, 0) with { Outcome = HistoryOutcome.Unknown, Return = long.MaxValue }));
    }

    [Fact]
    public void Writes_before_the_baseline_all_at_revision_0_are_accepted_and_one_at_0_after_it_is_not()
    {
        Assert.Empty(Check(Write("a1", 0, 10, 0), Write("a2", 11, 20, 0), Read("a1", 21, 30, 0, 1), Write("a2", 31, 40, 2)));
        Assert.Contains(Check(Write("a1", 0, 10, 2), Write("a2", 11, 20, 0)), v => v.Contains("answered revision 0"));
    }

    [Fact]
    public void Two_writes_at_one_revision_of_a_position_are_a_violation()
    {
        var violations = Check(Write("a1", 0, 10, 5), Write("a2", 0, 10, 5), Write("b1", 0, 10, 5));

        Assert.Equal("position 0: 2 writes at revision 5", violations.Single()[..34]);
    }

    [Fact]
    public void A_read_below_the_revision_of_an_operation_that_returned_before_it_was_called_is_a_violation()
    {
        Assert.Contains(Check(Write("a1", 0, 10, 5), Read("a2", 11, 20, 2, 4)), v => v.Contains("answered revision 4"));
        Assert.Contains(Check(Read("a1", 0, 10, 5, 5), Read("a2", 11, 20, 0, 0)), v => v.Contains("answered revision 0"));
    }

    [Fact]
    public void A_write_not_above_every_write_that_returned_before_it_was_called_is_a_violation()
    {
        var violations = Check(Write("a1", 0, 10, 5), Read("a1", 11, 12, 5, 9), Write("a2", 11, 20, 5) with { Revision = 9 });

        Assert.Contains(violations, v => v.Contains("was written at revision 5"));
    }
}
