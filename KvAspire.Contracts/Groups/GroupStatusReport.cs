namespace KvAspire.Groups;

/// <summary>
/// What a node's <c>GET /status</c> answers: its view of its Raft group (role: leader, follower or
/// candidate; standby while it waits to be added to the group; starting, holding no writes, while a node
/// that started on an empty data directory asks its peers the same). The client reads the same record for its
/// <c>ring</c> command. <c>Member</c> is its Raft address, <c>Members</c> the group's membership as it
/// knows it; <c>AppliedIndex</c> is the last entry whose writes its map holds (Raft's own entries, which
/// write nothing, leave it where it was); <c>HoldsWrites</c> says whether any client write has ever been
/// applied here. <c>Revision</c> is its position's revision as applied here (0 before the position's
/// baseline entry); <c>CountsRevisions</c> says its release counts them (a release before revisions
/// leaves it out, read as false): a position's leader proposes the baseline only once every member says so.
/// <c>KeepsLeases</c>, likewise: a leader takes lease calls only once every member's release reads their entries;
/// <c>ChecksOwnership</c>: its release reads a claim entry (the range of keys its position owns), which the
/// leader proposes only once every member says so.
/// </summary>
public sealed record GroupStatusReport(
    string Node,
    int Position,
    string Role,
    string? Leader,
    long Term,
    long CommitIndex,
    long AppliedIndex,
    string Member,
    IReadOnlyList<string> Members,
    bool HoldsWrites,
    NodeMemory? Memory = null,
    long Revision = 0,
    bool CountsRevisions = false,
    bool KeepsLeases = false,
    bool ChecksOwnership = false);
