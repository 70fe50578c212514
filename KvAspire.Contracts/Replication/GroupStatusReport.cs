namespace KvAspire.Node.Replication;

/// <summary>
/// What a node's <c>GET /status</c> answers: its view of its Raft group (role: leader, follower or
/// candidate). The client reads the same record for its <c>ring</c> command.
/// </summary>
public sealed record GroupStatusReport(
    string Node,
    int Position,
    string Role,
    string? Leader,
    long Term,
    long CommitIndex,
    long AppliedIndex);
