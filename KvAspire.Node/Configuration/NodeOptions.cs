using KvAspire.Cluster;

namespace KvAspire.Node.Configuration;

/// <summary>
/// Every timeout, interval, retry pause and bound a node keeps, in one place, each with the reason for
/// its value. Those that depend on the topology (Raft's <c>ElectionTimeoutMs</c>, <c>QueueCapacity</c>)
/// are derived from it; <see cref="Validate"/> runs at start, so a combination that cannot work stops
/// the node there instead of showing up as timeouts under load. (The limits on keys and values are
/// the topology's own: every node and client must agree on them.)
/// </summary>
public sealed record NodeOptions
{
    /// <summary>
    /// F1: client requests a node works on at once (<c>QueueCapacity</c>); as many more may wait for a
    /// slot, and beyond that a request is refused with RESOURCE_EXHAUSTED.
    /// </summary>
    public required int AdmittedRequests { get; init; }

    /// <summary>F1: client requests that may wait for a slot, oldest first.</summary>
    public int WaitingRequests => AdmittedRequests;

    /// <summary>F2 and F3: items each may hold before the state machine, and so Raft's applying, waits.</summary>
    public int CommittedQueueCapacity => AdmittedRequests;

    /// <summary>The most records the log worker writes with one write and one fsync (group commit).</summary>
    public int LogBatchRecords { get; init; } = 4096;

    /// <summary>
    /// The most writes one Raft entry carries: writes that arrive while the leader's previous entry is
    /// being committed go together into the next, so under load one append, one replication round and
    /// one <c>log.X</c> record serve many writes, while a lone write goes at once.
    /// </summary>
    public int EntryWrites { get; init; } = 256;

    /// <summary>The most bytes of writes one Raft entry carries (a larger write goes alone).</summary>
    public int EntryBytes { get; init; } = 1024 * 1024;

    /// <summary>
    /// The events a replica keeps for watches from an earlier revision (<c>WatchHistoryMiB</c>; they take at
    /// most about this much memory); past it the oldest go, and a watch from before them is refused. The
    /// default 64 MiB keeps ~100,000 updates of 256 B (each counted with its previous value).
    /// </summary>
    public long EventHistoryBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// How often the leader records each lease's time left through Raft (<c>LeaseCheckpointSeconds</c>), so that
    /// a new leader starts it from there: a lease lives at most about this much past its TTL across a leader change.
    /// </summary>
    public TimeSpan LeaseCheckpointInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The shortest TTL a lease is granted (a shorter one asked for is raised to it): three elections, so that a
    /// holder renewing every third of its TTL gets a renewal through a leader change (etcd has such a floor too).
    /// </summary>
    public TimeSpan MinLeaseTtl => 3 * UpperElectionTimeout;

    /// <summary>How often the leader looks for leases that are due: an expiry comes at most this much late (plus a commit).</summary>
    public TimeSpan LeaseCheckInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a watched position may be idle before its watchers get a progress notice (and relays know it lives).</summary>
    public TimeSpan WatchProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Raft's lower election timeout: a follower that hears no leader for this long (to twice it) stands.</summary>
    public required TimeSpan ElectionTimeout { get; init; }

    /// <summary>Raft's upper election timeout.</summary>
    public TimeSpan UpperElectionTimeout => 2 * ElectionTimeout;

    /// <summary>A Raft member that cannot be connected to within an election timeout counts as down.</summary>
    public TimeSpan RaftConnectTimeout => ElectionTimeout;

    /// <summary>
    /// How long a Raft message but a snapshot may take to be answered (half the upper election timeout, DotNext's
    /// own default): a member that has not answered by then counts as unavailable for that round, and a candidate's
    /// pre-vote, which waits for every member's answer, waits no longer than this for one cut off.
    /// </summary>
    public TimeSpan RaftMessageTimeout => UpperElectionTimeout / 2;

    /// <summary>
    /// The slowest a leader's snapshot may arrive and be installed by a follower (receiving, reading, writing
    /// <c>snap.X</c>) before the send counts as failed: a tenth of what an idle 2-core machine here managed
    /// (33 MB in 0.8 s), room for a loaded one.
    /// </summary>
    public long SnapshotSendFloorBytesPerSecond { get; init; } = 4L * 1024 * 1024;

    /// <summary>The longest any snapshot send may take (also the bound when its size is not known).</summary>
    public TimeSpan RaftSnapshotTimeoutCap { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long sending a snapshot of <paramref name="bytes"/> may take: a message's time, plus its bytes at the floor rate.</summary>
    public TimeSpan SnapshotSendTimeout(long? bytes) => bytes is { } size
        ? Min(RaftSnapshotTimeoutCap, RaftMessageTimeout + TimeSpan.FromSeconds((double)size / SnapshotSendFloorBytesPerSecond))
        : RaftSnapshotTimeoutCap;

    /// <summary>
    /// The lowest retransmission timeout of Raft's sockets: a few round trips of a local network, far
    /// under an election timeout (see <c>Peers/RaftLinkSockets</c>).
    /// </summary>
    public TimeSpan RaftRetransmitFloor { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// One hand-off of a request to the position's leader: a leader that has not answered by then may be
    /// frozen, and by then the others have elected another, so the next try asks again who leads.
    /// </summary>
    public TimeSpan LeaderHandOffTimeout => 2 * UpperElectionTimeout;

    /// <summary>
    /// How long a request may wait in a node for a leader, a commit or a read barrier, and how long a
    /// forward may take with all its later hops: room for two hand-offs, and never under 5 s, a few
    /// elections' worth at the default election timeout.
    /// </summary>
    public TimeSpan RequestTimeout => Max(TimeSpan.FromSeconds(5), 2 * LeaderHandOffTimeout);

    /// <summary>The first pause before a request is tried again (a leader change), doubled up to <see cref="MaxRetryBackoff"/>.</summary>
    public TimeSpan FirstRetryBackoff { get; init; } = TimeSpan.FromMilliseconds(20);

    public TimeSpan MaxRetryBackoff { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>A peer that is down must fail a forward fast, not hold it until its deadline.</summary>
    public TimeSpan PeerConnectTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A link that dies under an open connection (a partition: packets dropped, nothing reset) is found by
    /// an unanswered ping within delay + timeout, idle or not; the timeout leaves a peer busy starting up
    /// time to answer.
    /// </summary>
    public TimeSpan PeerKeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan PeerKeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>A peer back from a partition or a restart is connected to again within <see cref="MaxPeerReconnectBackoff"/>.</summary>
    public TimeSpan FirstPeerReconnectBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxPeerReconnectBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a peer passed over as unreachable is asked (gRPC health) whether it answers again.</summary>
    public TimeSpan PeerProbeInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan PeerProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a replacement is given to tell the leader its new Raft address.</summary>
    public TimeSpan ReplacementAskTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The pause between tries to add a replacement (DotNext gives up when the log moves on under load).</summary>
    public TimeSpan ReplacementAddRetryPause { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>A node on an empty data directory asks each peer's <c>/status</c> this often, each given this long.</summary>
    public TimeSpan StartupAskInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan StartupAskTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long each pipeline worker may take at shutdown to finish what it accepted: every request under
    /// way ends within the request timeout, so this is room enough.
    /// </summary>
    public TimeSpan WorkerStopTimeout => 2 * RequestTimeout + TimeSpan.FromSeconds(20);

    public static NodeOptions For(ClusterTopology topology) => new NodeOptions
    {
        ElectionTimeout = TimeSpan.FromMilliseconds(topology.ElectionTimeoutMs),
        AdmittedRequests = topology.QueueCapacity,
        EventHistoryBytes = topology.WatchHistoryMiB * 1024L * 1024,
    }.Validate();

    /// <summary>Returns these options, or throws (a configuration error) naming the first that cannot work with the others.</summary>
    public NodeOptions Validate()
    {
        if (AdmittedRequests < 1 || LogBatchRecords < 1 || EntryWrites < 1 || EntryBytes < 1)
            throw new TopologyException($"QueueCapacity ({AdmittedRequests}), the log batch ({LogBatchRecords}) and the writes ({EntryWrites}) and bytes ({EntryBytes}) of a Raft entry must be at least 1");
        if (RaftRetransmitFloor <= TimeSpan.Zero || RaftRetransmitFloor * 4 > ElectionTimeout)
            throw new TopologyException($"the Raft retransmission floor ({RaftRetransmitFloor.TotalMilliseconds} ms) must be positive and at most a quarter of the election timeout ({ElectionTimeout.TotalMilliseconds} ms)");
        if (FirstRetryBackoff <= TimeSpan.Zero || MaxRetryBackoff < FirstRetryBackoff || MaxRetryBackoff >= RequestTimeout)
            throw new TopologyException($"retry pauses must grow from {FirstRetryBackoff.TotalMilliseconds} ms to at most {MaxRetryBackoff.TotalMilliseconds} ms, under the request timeout ({RequestTimeout.TotalSeconds} s)");
        if (PeerConnectTimeout >= RequestTimeout || PeerProbeTimeout >= RequestTimeout)
            throw new TopologyException($"connecting to or probing a peer must take less than a request may ({RequestTimeout.TotalSeconds} s)");
        if (SnapshotSendFloorBytesPerSecond < 1 || RaftSnapshotTimeoutCap < RaftMessageTimeout)
            throw new TopologyException($"a snapshot send needs a positive floor rate ({SnapshotSendFloorBytesPerSecond} B/s) and at least a Raft message's time ({RaftMessageTimeout.TotalMilliseconds} ms)");
        if (FirstPeerReconnectBackoff <= TimeSpan.Zero || MaxPeerReconnectBackoff < FirstPeerReconnectBackoff)
            throw new TopologyException("peer reconnect pauses must be positive and grow");
        return this;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
