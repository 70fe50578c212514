using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;

namespace KvAspire.Tests.Support;

/// <summary>
/// The base of the map's tests: a map fed committed entries one by one, as F3 feeds it, each at the next
/// index, its timestamp 1000 past it.
/// </summary>
public abstract class AppliedMap
{
    private long _index;

    protected KvMap Map { get; } = new();

    /// <summary>The index the next entry takes.</summary>
    protected long NextIndex() => ++_index;

    protected OperationResult Apply(KvOperation operation)
    {
        var index = NextIndex();
        return Map.Apply(new CommittedEntry(index, 0, 1000 + index, [operation])).Single();
    }

    protected OperationResult Apply(OperationKind kind, string key, string? value = null, long? expected = null, ClientRequestId? id = null) =>
        Apply(new KvOperation(kind, key, Encoding.UTF8.GetBytes(value ?? ""), expected, id));

    /// <summary>The position's revision baseline: changes from here on are numbered.</summary>
    protected void Baseline() => Map.Apply(new CommittedEntry(NextIndex(), 0, 0, [], StartsRevisions: true));

    protected TransactionOutcome Txn(Transaction txn, ClientRequestId? id = null) =>
        Apply(new KvOperation(OperationKind.Txn, txn.Keys.First(), RequestId: id, Txn: txn)).Txn!;

    protected static TransactionOp Put(string key, string value) => new(TransactionOpKind.Put, key, Encoding.UTF8.GetBytes(value));
}
