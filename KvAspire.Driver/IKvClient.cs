namespace KvAspire.Driver;

/// <summary>
/// A KvAspire cluster as a .NET app uses it. Thread-safe: one instance per app, shared by every caller
/// (like a Redis ConnectionMultiplexer). Every operation is linearizable; calls on one key take effect in
/// the order they were made, even when made without awaiting the one before; a write retried across
/// nodes (after a timeout or a node failure) is applied at most once.
/// </summary>
public interface IKvClient
{
    /// <exception cref="KvKeyNotFoundException">No such key.</exception>
    /// <exception cref="KvUnavailableException">The key's position did not answer in time.</exception>
    Task<KvEntry> ReadAsync(string key, CancellationToken cancellationToken = default);

    /// <exception cref="KvKeyExistsException">The key exists already.</exception>
    Task<KvWriteResult> CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default);

    /// <summary>Creates a key held by <paramref name="lease"/>: it is deleted when the lease ends.</summary>
    /// <exception cref="KvKeyExistsException">The key exists already.</exception>
    /// <exception cref="KvLeaseNotFoundException">The lease is gone.</exception>
    /// <exception cref="KvException">INVALID_ARGUMENT: the key lives on another position than the lease (give it the lease's <c>{tag}</c>).</exception>
    Task<KvWriteResult> CreateAsync(string key, ReadOnlyMemory<byte> value, long lease, CancellationToken cancellationToken = default);

    /// <param name="expectedVersion">When given, the update applies only if the key is at this version (test-and-set).</param>
    /// <exception cref="KvKeyNotFoundException">No such key.</exception>
    /// <exception cref="KvVersionMismatchException">The key is not at <paramref name="expectedVersion"/>.</exception>
    Task<KvWriteResult> UpdateAsync(string key, ReadOnlyMemory<byte> value, long? expectedVersion = null, CancellationToken cancellationToken = default);

    /// <summary>Updates a key and sets the lease that holds it (0: none; an update without a lease detaches the key from its lease).</summary>
    /// <exception cref="KvLeaseNotFoundException">The lease is gone.</exception>
    Task<KvWriteResult> UpdateAsync(string key, ReadOnlyMemory<byte> value, long? expectedVersion, long lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// A lease of at least <paramref name="ttl"/> on the position of <paramref name="placeWith"/> (a key it will
    /// hold, or any key with the <c>{tag}</c> its keys share), kept alive by the returned <see cref="KvLease"/>
    /// until it is disposed (which revokes it). Its keys are deleted, at one revision, when it ends: revoked, or
    /// not kept alive for its TTL (its leader decides; the TTL is a minimum, counted from the last keep-alive sent).
    /// </summary>
    Task<KvLease> GrantLeaseAsync(TimeSpan ttl, string placeWith, CancellationToken cancellationToken = default);

    /// <summary>Renews <paramref name="lease"/> for its whole TTL; returns the TTL.</summary>
    /// <exception cref="KvLeaseNotFoundException">The lease is gone.</exception>
    Task<TimeSpan> KeepLeaseAliveAsync(long lease, CancellationToken cancellationToken = default);

    /// <summary>Ends <paramref name="lease"/> now, deleting its keys; returns the revision they were deleted at.</summary>
    /// <exception cref="KvLeaseNotFoundException">The lease is gone already.</exception>
    Task<long> RevokeLeaseAsync(long lease, CancellationToken cancellationToken = default);

    /// <summary>The lease's TTL, its time left (by the clock of a replica of its position) and its keys.</summary>
    /// <exception cref="KvLeaseNotFoundException">The lease is gone.</exception>
    Task<KvLeaseStatus> LeaseTimeToLiveAsync(long lease, CancellationToken cancellationToken = default);

    /// <param name="expectedVersion">When given, the key is deleted only if it is at this version.</param>
    /// <exception cref="KvKeyNotFoundException">No such key.</exception>
    /// <exception cref="KvVersionMismatchException">The key is not at <paramref name="expectedVersion"/>.</exception>
    Task<KvWriteResult> DeleteAsync(string key, long? expectedVersion = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="transaction"/> as one change of one position; it keeps its place in the order of
    /// calls on its first key. Retried like a write, it is applied at most once.
    /// </summary>
    /// <exception cref="KvException">INVALID_ARGUMENT: its keys live on several positions, or it is malformed (the message says which).</exception>
    /// <exception cref="KvUnavailableException">Its position did not answer in time; it may have been applied, and retrying it is safe.</exception>
    Task<KvTxnResult> TxnAsync(KvTransaction transaction, CancellationToken cancellationToken = default);

    /// <summary>
    /// The keys under <paramref name="prefix"/> (every key when empty), in key order, a page at a time as the
    /// enumeration goes. Each page reads every position as a read does, at that position's revision; pages
    /// are read one after another, not as one snapshot of the ring (a key written meanwhile may show its
    /// newer value, or, deleted, be missing from a later page).
    /// </summary>
    /// <param name="keysOnly">Leave the values out (each item's value is empty).</param>
    /// <exception cref="KvUnavailableException">A position did not answer in time.</exception>
    IAsyncEnumerable<KvListItem> ListAsync(string prefix = "", bool keysOnly = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every key under <paramref name="prefix"/> at once, read as <see cref="ListAsync"/> reads them, with the
    /// revisions to watch from so that the list and the watch together miss no change (see <see cref="KvListing"/>).
    /// </summary>
    /// <exception cref="KvUnavailableException">A position did not answer in time.</exception>
    Task<KvListing> ListAllAsync(string prefix = "", bool keysOnly = false, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every change of <paramref name="key"/> (or, with <see cref="KvWatchOptions.Prefix"/>, of the keys under it)
    /// after <see cref="KvWatchOptions.After"/> (or from now), as it is applied, until cancelled: per position
    /// in revision order, each change once; positions are independent, so changes of two positions come in
    /// either order. A position's events come from any of its replicas, so they may trail its leader by the
    /// replication lag. When the node serving the watch fails, the watch goes on at another node from where
    /// it was, with nothing missed or repeated.
    /// </summary>
    /// <exception cref="KvWatchCompactedException">The start is older than the events a position keeps: list again, then watch from the list's revisions.</exception>
    /// <exception cref="KvUnavailableException">No node served the watch for <see cref="KvClientOptions.WatchRetryWindow"/>.</exception>
    IAsyncEnumerable<KvEvent> WatchAsync(string key, KvWatchOptions? options = null, CancellationToken cancellationToken = default);
}
