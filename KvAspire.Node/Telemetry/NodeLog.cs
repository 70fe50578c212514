using KvAspire.Operations;

namespace KvAspire.Node.Telemetry;

/// <summary>The node's log messages, defined once and logged without string building.</summary>
public static partial class NodeLog
{
    [LoggerMessage(1, LogLevel.Information, "Node {Node} (position {Position}, replica {Replica}) serving gRPC on {GrpcUri}, health on {HttpUri}, data in {DataDirectory}")]
    public static partial void Serving(ILogger logger, string node, int position, int replica, string grpcUri, string httpUri, string dataDirectory);

    [LoggerMessage(2, LogLevel.Information, "Recovered {DataDirectory}: {Keys} keys, committed up to index {CommitIndex}, Raft log up to {LastIndex}, writing to {ActiveLog}, in {ElapsedMs:F1} ms")]
    public static partial void Recovered(ILogger logger, string dataDirectory, int keys, long commitIndex, long lastIndex, string activeLog, double elapsedMs);

    [LoggerMessage(7, LogLevel.Information, "Loaded {Snapshot}: {Keys} keys up to index {LastIndex} in {ElapsedMs:F1} ms")]
    public static partial void SnapshotLoaded(ILogger logger, string snapshot, int keys, long lastIndex, double elapsedMs);

    [LoggerMessage(8, LogLevel.Warning, "{Snapshot} cannot be used ({Reason}); falling back to the previous snapshot and its logs")]
    public static partial void SnapshotUnusable(ILogger logger, string snapshot, string reason);

    [LoggerMessage(9, LogLevel.Information, "Read {Log}: {Records} records, Raft log now up to index {LastIndex}, in {ElapsedMs:F1} ms")]
    public static partial void LogReplayed(ILogger logger, string log, long records, long lastIndex, double elapsedMs);

    [LoggerMessage(10, LogLevel.Information, "Removed {File}, an unfinished snapshot left by a crash")]
    public static partial void UnfinishedSnapshotRemoved(ILogger logger, string file);

    [LoggerMessage(11, LogLevel.Information, "Wrote {Snapshot}: {Keys} keys up to index {LastIndex}, {SizeBytes} bytes, in {ElapsedMs:F1} ms; removed {Removed}")]
    public static partial void SnapshotWritten(ILogger logger, string snapshot, int keys, long lastIndex, long sizeBytes, double elapsedMs, string removed);

    [LoggerMessage(12, LogLevel.Error, "Writing {Snapshot} failed; the logs still hold every write, the next snapshot will try again")]
    public static partial void SnapshotFailed(ILogger logger, string snapshot, Exception exception);

    [LoggerMessage(3, LogLevel.Warning, "Torn tail in {Path} ({Reason}): cut off everything after byte {ValidLength}; those writes were never acknowledged")]
    public static partial void TornTailCut(ILogger logger, string path, string reason, long validLength);

    [LoggerMessage(4, LogLevel.Critical, "The operation log is corrupt; refusing to start rather than serve wrong data: {Reason}")]
    public static partial void LogCorrupt(ILogger logger, string reason);

    [LoggerMessage(26, LogLevel.Information, "This position counts revisions from entry {Index} on (its baseline, revision {Revision}): every key's create and modify revision is {Revision}, and each change from here takes the next")]
    public static partial void RevisionsStarted(ILogger logger, long index, long revision);

    [LoggerMessage(27, LogLevel.Information, "Position {Position} has not committed {What} yet: {Member} {Reason}; it is proposed once every member runs a release that reads it")]
    public static partial void BaselineWaiting(ILogger logger, string what, int position, string member, string reason);

    [LoggerMessage(28, LogLevel.Information, "Proposed {What} of position {Position}: every member runs a release that reads it")]
    public static partial void BaselineProposed(ILogger logger, string what, int position);

    [LoggerMessage(29, LogLevel.Information, "Proposed the expiry of {Count} lease(s) that are due, with every key each holds: {Leases}")]
    public static partial void LeasesExpired(ILogger logger, int count, string leases);

    [LoggerMessage(6, LogLevel.Critical, "Cannot start: {Reason}")]
    public static partial void CannotStart(ILogger logger, string reason);

    [LoggerMessage(5, LogLevel.Critical, "Writing the operation log failed; stopping the node, no write after this is acknowledged")]
    public static partial void LogWriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(13, LogLevel.Warning, "Raft entry {Index} ({Length} bytes) is not a KvAspire write; skipped")]
    public static partial void EntrySkipped(ILogger logger, long index, long length);

    [LoggerMessage(14, LogLevel.Critical, "Applying Raft entry {Index} failed; stopping the node rather than carry on different from its replicas")]
    public static partial void ApplyFailed(ILogger logger, long index, Exception exception);

    [LoggerMessage(15, LogLevel.Information, "Installed the leader's snapshot as {Snapshot}: {Keys} keys up to index {LastIndex}, term {Term}")]
    public static partial void SnapshotInstalled(ILogger logger, string snapshot, int keys, long lastIndex, long term);

    [LoggerMessage(16, LogLevel.Information, "Position {Position}: leader is now {Leader} (term {Term})")]
    public static partial void LeaderChanged(ILogger logger, int position, string leader, long term);

    [LoggerMessage(17, LogLevel.Trace, "Applied entry {Index} (term {Term}) request {Request} {Kind} '{Key}': {Code} version {Version}")]
    public static partial void EntryApplied(ILogger logger, long index, long term, ClientRequestId? request, OperationKind kind, string key, ResultCode code, long version);

    [LoggerMessage(18, LogLevel.Information, "No TLS (Cluster.Tls) and {Variable} is not set: traffic is plaintext, and Raft and forwards are accepted from anyone who can reach this node (fine on loopback, not on a network), " +
        "and calls that say they come from a node are admitted in a line of their own, as bounded as the clients'")]
    public static partial void NoClusterSecret(ILogger logger, string variable);

    [LoggerMessage(19, LogLevel.Warning, "{Node}'s data directory is empty, but {Holder} already holds client writes: this replica lost its data. " +
        "It waits, voting for no one, as new member {Address} until the leader replaces the member it was: run `kv replace-replica {Node}`")]
    public static partial void JoiningAsReplacement(ILogger logger, string node, string holder, string address);

    [LoggerMessage(20, LogLevel.Information, "{Node}'s data directory is empty: waiting for one of {Peers} to answer, to learn whether its group is new")]
    public static partial void WaitingForPeers(ILogger logger, string node, string peers);

    [LoggerMessage(21, LogLevel.Warning, "Position {Position}: replaced member {Old} by {New} ({Node})")]
    public static partial void MemberReplaced(ILogger logger, int position, string old, string @new, string node);

    [LoggerMessage(22, LogLevel.Warning, "Peer {Peer} cannot be reached ({Reason}): forwards pass it over until it answers a health check")]
    public static partial void PeerUnreachable(ILogger logger, string peer, string reason);

    [LoggerMessage(24, LogLevel.Error, "A {Operation} on position {Position} failed in a way nothing here expects; answered INTERNAL")]
    public static partial void RequestFailed(ILogger logger, string operation, int position, Exception exception);

    [LoggerMessage(25, LogLevel.Critical, "The pipeline's {Worker} failed; stopping the node, which could no longer answer")]
    public static partial void WorkerFailed(ILogger logger, string worker, Exception exception);

    [LoggerMessage(23, LogLevel.Information, "Peer {Peer} answers again")]
    public static partial void PeerReachable(ILogger logger, string peer);

    [LoggerMessage(30, LogLevel.Information, "Ready: position {Position} is led by {Leader}")]
    public static partial void Ready(ILogger logger, int position, string leader);

    [LoggerMessage(31, LogLevel.Information, "Not ready yet: position {Position} has no leader this node can see (its first election, or it waits for a quorum of its replicas to start)")]
    public static partial void NotReadyYet(ILogger logger, int position);

    [LoggerMessage(32, LogLevel.Warning, "Not ready: position {Position} has no leader this node can see any more: no quorum, or an election under way")]
    public static partial void NoLongerReady(ILogger logger, int position);

    [LoggerMessage(33, LogLevel.Information, "Backup: position {Position} sent as {Snapshot} (through index {Index}, {Bytes} bytes)")]
    public static partial void BackupSent(ILogger logger, int position, string snapshot, long index, long bytes);

    [LoggerMessage(34, LogLevel.Information, "Restored from the backup in {Backup}: position {Position} through index {Index} ({Keys} keys, revision {Revision}), as {Snapshot}")]
    public static partial void Restored(ILogger logger, string backup, int position, long index, int keys, long revision, string snapshot);

    [LoggerMessage(35, LogLevel.Information, "Not restoring from {Backup}: {Reason}")]
    public static partial void RestoreSkipped(ILogger logger, string backup, string reason);

    [LoggerMessage(36, LogLevel.Information, "No TLS (no Cluster.Tls in {Topology}): clients, forwards and Raft speak plaintext, the cluster secret included (fine on loopback, not on a network)")]
    public static partial void Plaintext(ILogger logger, string topology);

    [LoggerMessage(37, LogLevel.Information, "Ring layout: epoch {From} -> {To} ({Positions} positions), written to disk; routing with it from now on")]
    public static partial void LayoutAdopted(ILogger logger, long from, long to, int positions);

    [LoggerMessage(38, LogLevel.Error, "Ring layout of epoch {Epoch} not taken: {Reason}")]
    public static partial void LayoutRefused(ILogger logger, long epoch, string reason);

    [LoggerMessage(39, LogLevel.Information, "From entry {Index} on, this position owns the keys of {Range}: a key outside it is refused, and its request routed again")]
    public static partial void ClaimApplied(ILogger logger, long index, string range);

    [LoggerMessage(40, LogLevel.Information, "Entry {Index}: a part of the range given to this position for ring epoch {Epoch} ({Keys} keys{Outcome})")]
    public static partial void RangePartApplied(ILogger logger, long index, long epoch, int keys, string outcome);

    [LoggerMessage(41, LogLevel.Information, "Entry {Index}: the keys outside this position's claim dropped ({Dropped}); {Keys} keys left")]
    public static partial void UnclaimedDropped(ILogger logger, long index, int dropped, int keys);

    [LoggerMessage(42, LogLevel.Information, "Move to ring epoch {Epoch}: {Plan}")]
    public static partial void MoveStarted(ILogger logger, long epoch, string plan);

    [LoggerMessage(43, LogLevel.Information, "Move done: ring epoch {Epoch}; {Keys} keys ({Bytes} bytes) copied")]
    public static partial void MoveDone(ILogger logger, long epoch, long keys, long bytes);

    [LoggerMessage(44, LogLevel.Warning, "Move given up: position {Giver} claims {Range} again: {Reason}")]
    public static partial void MoveRolledBack(ILogger logger, int giver, string range, string reason);

    [LoggerMessage(45, LogLevel.Information, "Driving the move to ring epoch {Epoch} as its giver's leader: {Plan}")]
    public static partial void MoveDriven(ILogger logger, long epoch, string plan);

    [LoggerMessage(46, LogLevel.Warning, "The move to ring epoch {Epoch} is held up: {Reason}")]
    public static partial void MoveStalled(ILogger logger, long epoch, string reason);
}
