namespace KvAspire.Tests.Support;

public enum HistoryKind
{
    Create,
    Read,
    Update,
    Delete,
}

/// <summary>How an operation ended, as its caller saw it.</summary>
public enum HistoryOutcome
{
    Ok,
    NotFound,
    AlreadyExists,
    VersionMismatch,

    /// <summary>No answer (timeout, UNAVAILABLE): it may or may not have taken effect, at any time after its call.</summary>
    Unknown,
}

/// <summary>
/// One operation of a recorded history: what was asked, when (call and return, on one clock), and what
/// came back: for a successful read the value and version seen, for a successful write the new version
/// (a delete's, the version it removed); for either, the key's modify revision and its position's
/// revision as answered, and the leader the answer named (the node whose group executed it).
/// </summary>
public sealed record HistoryOperation(
    string Key,
    HistoryKind Kind,
    string? Value,
    long? ExpectedVersion,
    long Call,
    long Return,
    HistoryOutcome Outcome,
    string? SeenValue = null,
    long SeenVersion = 0,
    long ModRevision = 0,
    long Revision = 0,
    string? Leader = null)
{
    public override string ToString() =>
        $"{Kind.ToString().ToLowerInvariant()} {Key}{(Value is null ? "" : $" '{Value}'")}{(ExpectedVersion is { } v ? $" @{v}" : "")} " +
        $"[{Call}, {(Outcome == HistoryOutcome.Unknown ? "?" : Return.ToString(System.Globalization.CultureInfo.InvariantCulture))}] → " +
        (Outcome == HistoryOutcome.Ok ? $"ok{(SeenValue is null ? "" : $" '{SeenValue}'")} v{SeenVersion} r{ModRevision}/{Revision}" : Outcome.ToString());
}
