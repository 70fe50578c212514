using System.Text;
using Medallion.Threading;

namespace KvAspire.Driver.Aspire.Locking;

/// <summary>
/// One lock: taken by creating its key under a lease of the taker's (kept alive while held), released by revoking
/// that lease, which deletes the key; a holder that dies releases it when its lease lapses. A waiter reads the
/// key and watches it from that read for its delete, so a release is never missed, then tries again (waiters are
/// not queued: whoever creates the key first after a release takes it). The read is a listing of the key, which
/// names the position that holds it: the key (and its lease) move when the ring changes.
/// </summary>
public sealed class KvDistributedLock : IDistributedLock
{
    private static readonly byte[] Holder = Encoding.UTF8.GetBytes($"{Environment.MachineName}/{Environment.ProcessId}");
    private readonly IKvClient _kv;
    private readonly string _key;
    private readonly TimeSpan _ttl;

    internal KvDistributedLock(IKvClient kv, string name, string key, TimeSpan ttl) => (_kv, Name, _key, _ttl) = (kv, name, key, ttl);

    public string Name { get; }

    public IDistributedSynchronizationHandle? TryAcquire(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireAsync(timeout, cancellationToken).AsTask().GetAwaiter().GetResult();

    public IDistributedSynchronizationHandle Acquire(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        AcquireAsync(timeout, cancellationToken).AsTask().GetAwaiter().GetResult();

    /// <returns>The handle (a <see cref="KvLockHandle"/>, with its fencing token), or null when <paramref name="timeout"/> passed first.</returns>
    public async ValueTask<IDistributedSynchronizationHandle?> TryAcquireAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        await TakeAsync(timeout, cancellationToken);

    /// <exception cref="TimeoutException"><paramref name="timeout"/> passed before the lock was free.</exception>
    public async ValueTask<IDistributedSynchronizationHandle> AcquireAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await TakeAsync(timeout ?? Timeout.InfiniteTimeSpan, cancellationToken)
        ?? throw new TimeoutException($"lock '{Name}' was not free within {timeout}");

    private async Task<KvLockHandle?> TakeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
            deadline.CancelAfter(timeout);
        KvLease? lease = null;
        try
        {
            while (true)
            {
                var held = lease ??= await _kv.GrantLeaseAsync(_ttl, _key, cancellationToken);
                try
                {
                    var taken = await _kv.CreateAsync(_key, Holder, held.Id, cancellationToken);
                    var handle = new KvLockHandle(held, taken.Revisions.Create);
                    lease = null;
                    return handle;
                }
                catch (KvKeyExistsException)
                {
                }
                catch (KvLeaseNotFoundException)
                {
                    // Lapsed while waiting (no renewal got through for its TTL): wait on under a new one.
                    await held.DisposeAsync();
                    lease = null;
                    continue;
                }
                if (timeout == TimeSpan.Zero || !await ReleasedAsync(deadline.Token, cancellationToken))
                    return null;
            }
        }
        finally
        {
            if (lease is not null)
                await lease.DisposeAsync();
        }
    }

    /// <summary>Waits for the holder to release the lock: true once it is free, false when the deadline passed first.</summary>
    private async Task<bool> ReleasedAsync(CancellationToken deadline, CancellationToken cancellationToken)
    {
        try
        {
            if ((await _kv.ListAllAsync(_key, keysOnly: true, deadline)).Items.FirstOrDefault(item => item.Key == _key) is not { } held)
                return true;
            // Its delete comes after the listing's revision at the position that holds the key.
            var after = new Dictionary<int, long> { [held.Position] = held.Revisions.Position };
            await foreach (var change in _kv.WatchAsync(_key, new KvWatchOptions { After = after }, deadline))
            {
                if (change.Kind == KvEventKind.Delete)
                    return true;
            }
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
