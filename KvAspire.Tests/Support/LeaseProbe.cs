using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Driver;
using KvAspire.Driver.Transport;
using KvAspire.V1;

namespace KvAspire.Tests.Support;

/// <summary>
/// Leases while the nemesis strikes: every so often a lease is granted (through the raw API, at a node in
/// turn) that nobody keeps alive, with one key; the key is then read until it is gone. A key seen gone, or
/// a create refused for its lease, before the lease's TTL from the grant's send is a lease that ended early:
/// a violation. One more lease is held through the library the whole run, and reported.
/// </summary>
public sealed class LeaseProbe : IAsyncDisposable
{
    private readonly KvClient _client;
    private readonly GrpcChannel[] _channels;
    private readonly CancellationTokenSource _stop = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<Lapsing> _pending = [];
    private readonly ConcurrentQueue<TimeSpan> _lateness = new();
    private Task _running = Task.CompletedTask;
    private KvLease? _kept;

    private LeaseProbe(IReadOnlyList<string> addresses, string? authority)
    {
        // Not straight to leaders: on namespaced hosts the layout names the nodes' own addresses, which the test reaches only through forwarded loopback ports.
        var options = new KvClientOptions { Nodes = [.. addresses], RouteToLeaders = false, Authority = authority };
        _client = new KvClient(options);
        var channels = NodeChannels.For(options);
        _channels = [.. addresses.Select(a => channels.Open(channels.Address(a)))];
    }

    private sealed record Lapsing(string Key, long Lease, TimeSpan Sent, TimeSpan Ttl);

    public ConcurrentQueue<string> Violations { get; } = new();

    /// <summary>Leases granted and seen to end (their keys gone).</summary>
    public int Lapsed => _lateness.Count;

    /// <summary>How long after its TTL each lapsed lease's key was first seen gone (the reads' own pace included).</summary>
    public IReadOnlyList<TimeSpan> Lateness => [.. _lateness];

    /// <summary>Whether the lease held through the library lasted the whole run.</summary>
    public bool KeptHeld => _kept is { Lost.IsCancellationRequested: false };

    /// <param name="authority">The cluster's CA, when it has TLS.</param>
    /// <param name="keptTtl">The TTL of the lease held the whole run (5 s when not given).</param>
    public static async Task<LeaseProbe> StartAsync(IReadOnlyList<string> addresses, string? authority = null, TimeSpan? keptTtl = null)
    {
        var probe = new LeaseProbe(addresses, authority);
        probe._kept = await probe._client.GrantLeaseAsync(keptTtl ?? TimeSpan.FromSeconds(5), "lease-kept");
        await probe._client.CreateAsync("lease-kept", "held"u8.ToArray(), probe._kept.Id);
        probe._running = probe.RunAsync();
        return probe;
    }

    private async Task RunAsync()
    {
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            await TryGrantAsync(n);
            await CheckPendingAsync(_stop.Token);
            await Task.Delay(TimeSpan.FromMilliseconds(700), _stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task TryGrantAsync(int n)
    {
        var key = $"lease-lapse-{n}";
        var sent = _clock.Elapsed;
        LeaseGrantReply grant;
        try
        {
            grant = await new Lease.LeaseClient(_channels[n % _channels.Length]).GrantAsync(new LeaseGrantRequest { TtlMs = 1, PlaceWith = key },
                deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: _stop.Token);
        }
        catch (RpcException)
        {
            return; // not granted, or granted with no key: nothing to check
        }
        var ttl = TimeSpan.FromMilliseconds(grant.TtlMs);
        try
        {
            await _client.CreateAsync(key, "lapsing"u8.ToArray(), grant.Lease, _stop.Token);
        }
        catch (KvLeaseNotFoundException)
        {
            Gone(new Lapsing(key, grant.Lease, sent, ttl), "a create refused for its lease");
            return;
        }
        catch (Exception e) when (e is KvException or OperationCanceledException)
        {
            return; // the key's fate is unknown
        }
        _pending.Add(new Lapsing(key, grant.Lease, sent, ttl));
    }

    private async Task CheckPendingAsync(CancellationToken cancellationToken)
    {
        foreach (var lapsing in _pending.ToList())
        {
            try
            {
                await _client.ReadAsync(lapsing.Key, cancellationToken);
            }
            catch (KvKeyNotFoundException)
            {
                _pending.Remove(lapsing);
                Gone(lapsing, "its key seen gone");
            }
            catch (Exception e) when (e is KvException or OperationCanceledException)
            {
                // Unavailable for now: read again next time.
            }
        }
    }

    private void Gone(Lapsing lapsing, string how)
    {
        var seen = _clock.Elapsed;
        if (seen < lapsing.Sent + lapsing.Ttl)
            Violations.Enqueue($"lease {lapsing.Lease} ({lapsing.Key}) ended early: {how} {(seen - lapsing.Sent).TotalMilliseconds:F0} ms after its grant was sent, TTL {lapsing.Ttl.TotalMilliseconds:F0} ms");
        _lateness.Enqueue(seen - lapsing.Sent - lapsing.Ttl);
    }

    /// <summary>Stops granting, then waits (up to <paramref name="timeout"/>) for every lease granted to be seen gone.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        await _stop.CancelAsync();
        await _running;
        var waited = Stopwatch.StartNew();
        while (_pending.Count > 0 && waited.Elapsed < timeout)
        {
            await CheckPendingAsync(CancellationToken.None);
            if (_pending.Count > 0)
                await Task.Delay(TimeSpan.FromMilliseconds(200));
        }
        foreach (var left in _pending)
            Violations.Enqueue($"lease {left.Lease} ({left.Key}) never ended: its key still there {(_clock.Elapsed - left.Sent).TotalSeconds:F0} s after its grant");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        if (_kept is not null)
            await _kept.DisposeAsync();
        _client.Dispose();
        foreach (var channel in _channels)
            channel.Dispose();
    }
}
