using System.Text;
using KvAspire.Operations;

namespace KvAspire.Driver;

/// <summary>
/// A transaction to run with <see cref="IKvClient.TxnAsync"/>: if every condition holds, the <c>Then</c>
/// operations, else the <c>Else</c> ones, in order, as one change of one position. Its keys must live on
/// one position: on a ring that places keys by their <c>{tag}</c>, give them one tag
/// (<c>{cart:7}items</c>, <c>{cart:7}total</c>). Not thread-safe while being built.
/// <code>
/// var moved = await kv.TxnAsync(new KvTransaction()
///     .IfValue("{acct}a", CompareResult.Equal, "10")
///     .ThenPut("{acct}a", "0").ThenPut("{acct}b", "10")
///     .ElseRead("{acct}a"));
/// </code>
/// </summary>
public sealed class KvTransaction
{
    private readonly List<TransactionCompare> _compares = [];
    private readonly List<TransactionOp> _then = [];
    private readonly List<TransactionOp> _else = [];

    public KvTransaction IfVersion(string key, CompareResult result, long version) => If(new(key, CompareTarget.Version, result, version));

    public KvTransaction IfCreateRevision(string key, CompareResult result, long revision) => If(new(key, CompareTarget.CreateRevision, result, revision));

    public KvTransaction IfModRevision(string key, CompareResult result, long revision) => If(new(key, CompareTarget.ModRevision, result, revision));

    /// <summary>The key's value against <paramref name="value"/>, byte by byte; never holds for a missing key.</summary>
    public KvTransaction IfValue(string key, CompareResult result, ReadOnlyMemory<byte> value) => If(new(key, CompareTarget.Value, result, Value: value));

    public KvTransaction IfValue(string key, CompareResult result, string value) => IfValue(key, result, Encoding.UTF8.GetBytes(value));

    public KvTransaction IfExists(string key) => IfVersion(key, CompareResult.Greater, 0);

    public KvTransaction IfMissing(string key) => IfVersion(key, CompareResult.Equal, 0);

    public KvTransaction ThenPut(string key, ReadOnlyMemory<byte> value) => Add(_then, new(TransactionOpKind.Put, key, value));

    public KvTransaction ThenPut(string key, string value) => ThenPut(key, Encoding.UTF8.GetBytes(value));

    public KvTransaction ThenDelete(string key) => Add(_then, new(TransactionOpKind.Delete, key));

    public KvTransaction ThenRead(string key) => Add(_then, new(TransactionOpKind.Read, key));

    public KvTransaction ElsePut(string key, ReadOnlyMemory<byte> value) => Add(_else, new(TransactionOpKind.Put, key, value));

    public KvTransaction ElsePut(string key, string value) => ElsePut(key, Encoding.UTF8.GetBytes(value));

    public KvTransaction ElseDelete(string key) => Add(_else, new(TransactionOpKind.Delete, key));

    public KvTransaction ElseRead(string key) => Add(_else, new(TransactionOpKind.Read, key));

    private KvTransaction If(TransactionCompare compare)
    {
        _compares.Add(compare);
        return this;
    }

    private KvTransaction Add(List<TransactionOp> branch, TransactionOp op)
    {
        branch.Add(op);
        return this;
    }

    /// <summary>The transaction as it stands, to send.</summary>
    internal Transaction Build() => new([.. _compares], [.. _then], [.. _else]);
}
