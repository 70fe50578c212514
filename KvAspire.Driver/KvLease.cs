using System.Diagnostics;

namespace KvAspire.Driver;

/// <summary>A lease as <see cref="IKvClient.LeaseTimeToLiveAsync"/> reads it.</summary>
public sealed record KvLeaseStatus(long Id, TimeSpan Ttl, TimeSpan Remaining, IReadOnlyList<string> Keys);

/// <summary>
/// A lease this client holds (<see cref="IKvClient.GrantLeaseAsync"/>): renewed every third of its TTL until
/// disposed, which revokes it. <see cref="Lost"/> is cancelled once the lease is known gone, or when no
/// renewal got through for its whole TTL (it may have expired): whatever the lease guarded must stop then.
/// A lock taken under it should carry a fencing token, the create revision of its key, for the resource it
/// guards to check: a holder paused past its TTL may not know yet that it lost the lock.
/// </summary>
public sealed class KvLease : IAsyncDisposable
{
    private readonly KvClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly Task _keeping;
    private volatile bool _abandoned;

    internal KvLease(KvClient client, long id, TimeSpan ttl)
    {
        (_client, Id, Ttl) = (client, id, ttl);
        _keeping = KeepAliveAsync();
    }

    public long Id { get; }

    public TimeSpan Ttl { get; }

    /// <summary>The position that granted the lease (it moves with the key it was placed with when the ring changes).</summary>
    public int Position => Operations.LeaseIds.Position(Id);

    /// <summary>Cancelled once the lease is gone, or may be.</summary>
    public CancellationToken Lost => _lost.Token;

    private async Task KeepAliveAsync()
    {
        // The lease lives its TTL from the last renewal's send (the grant's answer, at first).
        var renewedAt = Stopwatch.GetTimestamp();
        while (!_stop.IsCancellationRequested)
        {
            await Task.Delay(Ttl / 3, _stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            var sending = Stopwatch.GetTimestamp();
            var left = Ttl - Stopwatch.GetElapsedTime(renewedAt);
            if (_stop.IsCancellationRequested || left <= TimeSpan.Zero)
                break;
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            bounded.CancelAfter(left);
            try
            {
                await _client.KeepLeaseAliveAsync(Id, bounded.Token);
                renewedAt = sending;
            }
            catch (KvLeaseNotFoundException)
            {
                break;
            }
            catch (Exception e) when (e is KvException or OperationCanceledException)
            {
                // Disposed while renewing (the call is cancelled), or the position did not answer in time: then
                // try again, while the TTL since the last renewal lasts.
                if (_stop.IsCancellationRequested)
                    return;
            }
        }
        if (!_stop.IsCancellationRequested)
            await _lost.CancelAsync();
    }

    /// <summary>
    /// Stops renewing without revoking: the lease lives out its TTL from its last renewal, then its keys go
    /// (as if this process had stopped). Disposing it afterwards revokes nothing.
    /// </summary>
    public void Abandon()
    {
        _abandoned = true;
        _stop.Cancel();
    }

    /// <summary>Stops renewing and revokes the lease (its keys are deleted); a lease gone already is no error.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _keeping;
        if (!_lost.IsCancellationRequested && !_abandoned)
        {
            try
            {
                await _client.RevokeLeaseAsync(Id);
            }
            catch (KvLeaseNotFoundException)
            {
            }
        }
        await _lost.CancelAsync();
        _stop.Dispose();
        _lost.Dispose();
    }
}
