using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>Transactions in the map: the branch the comparisons choose, applied as one change at one revision.</summary>
[Trait("Category", "Unit")]
public sealed class KvMapTransactionTests : AppliedMap
{
    [Fact]
    public void A_transaction_runs_the_branch_its_comparisons_choose_and_its_writes_share_one_revision()
    {
        Baseline();
        Apply(OperationKind.Create, "a", "10");
        Apply(OperationKind.Create, "b", "0");

        var moved = Txn(new Transaction(
            [new TransactionCompare("a", CompareTarget.Value, CompareResult.Equal, Value: "10"u8.ToArray()), new TransactionCompare("b", CompareTarget.Version, CompareResult.Equal, 1)],
            [Put("a", "0"), Put("b", "10"), new TransactionOp(TransactionOpKind.Read, "b"), new TransactionOp(TransactionOpKind.Delete, "gone")],
            [new TransactionOp(TransactionOpKind.Read, "a")]));
        var refused = Txn(new Transaction(
            [new TransactionCompare("a", CompareTarget.Value, CompareResult.Equal, Value: "10"u8.ToArray())],
            [Put("a", "never")],
            [new TransactionOp(TransactionOpKind.Read, "a")]));

        Assert.True(moved.Succeeded);
        Assert.Equal([(true, 2L, 4L), (true, 2L, 4L), (true, 2L, 4L), (false, 0L, 0L)], moved.Results.Select(r => (r.Found, r.Version, r.ModRevision)));
        Assert.Equal("10", Encoding.UTF8.GetString(moved.Results[2].Value.Span));
        Assert.False(refused.Succeeded);
        Assert.Equal(("0", 4L), (Encoding.UTF8.GetString(refused.Results.Single().Value.Span), refused.Results.Single().ModRevision));
        Assert.Equal(4, Map.Revision);
        Assert.Equal((2L, 2L, 4L), (Map.Read("a").Version, Map.Read("a").CreateRevision, Map.Read("a").ModRevision));
    }

    [Theory]
    [InlineData(CompareTarget.Version, CompareResult.Equal, 0, true)]
    [InlineData(CompareTarget.Version, CompareResult.Greater, 0, false)]
    [InlineData(CompareTarget.ModRevision, CompareResult.Less, 1, true)]
    [InlineData(CompareTarget.CreateRevision, CompareResult.NotEqual, 0, false)]
    [InlineData(CompareTarget.Value, CompareResult.Equal, 0, false)]
    [InlineData(CompareTarget.Value, CompareResult.NotEqual, 0, false)]
    public void A_missing_key_compares_as_version_and_revisions_0_and_no_value(CompareTarget target, CompareResult result, long number, bool holds)
    {
        Baseline();

        var outcome = Txn(new Transaction([new TransactionCompare("missing", target, result, number)], [Put("created", "v")], []));

        Assert.Equal(holds, outcome.Succeeded);
        Assert.Equal(holds, Map.Read("created").IsOk);
    }

    [Fact]
    public void Values_compare_byte_by_byte()
    {
        Apply(OperationKind.Create, "k", "b");
        bool Holds(CompareResult result, string value) =>
            Txn(new Transaction([new TransactionCompare("k", CompareTarget.Value, result, Value: Encoding.UTF8.GetBytes(value))], [], [])).Succeeded;

        Assert.True(Holds(CompareResult.Greater, "a"));
        Assert.True(Holds(CompareResult.Less, "ba"));
        Assert.True(Holds(CompareResult.NotEqual, "B"));
        Assert.False(Holds(CompareResult.Equal, "bb"));
    }

    [Fact]
    public void A_transaction_that_changes_nothing_takes_no_revision_and_a_retried_one_answers_its_first_outcome()
    {
        Baseline();
        Apply(OperationKind.Create, "a", "1");
        var id = new ClientRequestId("c", 1);

        var onlyReads = Txn(new Transaction([], [new TransactionOp(TransactionOpKind.Read, "a"), new TransactionOp(TransactionOpKind.Delete, "none")], []));
        var first = Txn(new Transaction([], [Put("a", "2")], []), id);
        var retried = Txn(new Transaction([], [Put("a", "2")], []), id);

        Assert.Equal(2, onlyReads.Results[0].ModRevision);
        Assert.Equal(3, Map.Revision);
        Assert.Same(first, retried);
        Assert.Equal(2, Map.Read("a").Version);
    }
}
