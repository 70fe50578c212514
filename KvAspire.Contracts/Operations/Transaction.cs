namespace KvAspire.Operations;

/// <summary>What a comparison of a transaction looks at in its key.</summary>
public enum CompareTarget : byte
{
    Value = 0,
    Version = 1,
    CreateRevision = 2,
    ModRevision = 3,
}

/// <summary>How the key's field must stand against the comparison's operand.</summary>
public enum CompareResult : byte
{
    Equal = 0,
    NotEqual = 1,
    Less = 2,
    Greater = 3,
}

/// <summary>
/// One condition of a transaction: the key's <see cref="Target"/> against <see cref="Number"/> (version or
/// revision) or <see cref="Value"/> (bytes, compared in order). A missing key has version and revisions 0
/// (so "exists" is version greater than 0) and no value: a value comparison on it never holds.
/// </summary>
public sealed record TransactionCompare(string Key, CompareTarget Target, CompareResult Result, long Number = 0, ReadOnlyMemory<byte> Value = default);

public enum TransactionOpKind : byte
{
    /// <summary>Sets the key's value: creates it at version 1, or the next version of an existing key.</summary>
    Put = 1,

    /// <summary>Removes the key if it exists.</summary>
    Delete = 2,

    /// <summary>Reads the key as the transaction's earlier operations left it.</summary>
    Read = 3,
}

public sealed record TransactionOp(TransactionOpKind Kind, string Key, ReadOnlyMemory<byte> Value = default);

/// <summary>
/// If every comparison holds, the <see cref="Success"/> operations, else the <see cref="Failure"/> ones,
/// in order, as one change of one position: its writes share one revision, and nothing else comes between
/// the comparisons and them. Every key of it must live on one position (give them one <c>{tag}</c>).
/// </summary>
public sealed record Transaction(IReadOnlyList<TransactionCompare> Compares, IReadOnlyList<TransactionOp> Success, IReadOnlyList<TransactionOp> Failure)
{
    /// <summary>Every key it names: comparisons first, then the operations of both branches.</summary>
    public IEnumerable<string> Keys => Compares.Select(c => c.Key).Concat(Success.Select(o => o.Key)).Concat(Failure.Select(o => o.Key));
}

/// <summary>One operation's outcome: whether the key existed (a put: before it; a delete: when deleted; a read: when read), and the key as it left it.</summary>
public sealed record TransactionOpResult(string Key, bool Found, long Version = 0, long CreateRevision = 0, long ModRevision = 0, ReadOnlyMemory<byte> Value = default);

/// <summary>Whether the comparisons held, and one result per operation of the branch taken, in order.</summary>
public sealed record TransactionOutcome(bool Succeeded, IReadOnlyList<TransactionOpResult> Results);
