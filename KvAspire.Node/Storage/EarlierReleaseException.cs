namespace KvAspire.Node.Storage;

/// <summary>
/// The data directory was written by a release that kept Raft's log in <c>raft/</c> beside <c>log.X</c>
/// (log format 1 or 2). Its Raft log may hold entries this replica acknowledged and <c>log.X</c> lacks, so it
/// is not read: the replica is refilled from its group instead (docs/operations.md, Upgrading).
/// </summary>
public sealed class EarlierReleaseException(string directory) : Exception(
    $"{directory} was written by an earlier KvAspire release (Raft's log in raft/, log format 1 or 2); this release keeps " +
    "Raft's log in log.X and does not read the old one. Upgrade one replica at a time: stop it, move this directory " +
    "away, start it again on an empty one (it receives the data from the other replicas of its group), wait until its " +
    "/status shows it caught up, then go on to the next replica (docs/operations.md, Upgrading).");
