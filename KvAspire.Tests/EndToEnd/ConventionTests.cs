using System.Collections.Concurrent;
using System.Diagnostics;
using KvAspire.Driver;
using KvAspire.Driver.Aspire.Locking;
using KvAspire.Tests.Support;
using Medallion.Threading;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// The .NET interfaces KvAspire implements, each held to its contract against the 1×3 group of real node
/// processes that <see cref="SharedGroupCollection"/> shares, registered as an app registers them: the
/// distributed cache's expirations (absolute, sliding, both) and its use under HybridCache, the configuration
/// source's reload, the lock's mutual exclusion under contention and release by a dead holder's lease, and the
/// Data Protection key ring shared by two apps.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(SharedGroupCollection.Name)]
public sealed class ConventionTests(KvClientTests.Group group)
{
    private IHost App(Action<HostApplicationBuilder> configure, TimeProvider? time = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration["ConnectionStrings:kv"] = ConnectionString;
        if (time is not null)
            builder.Services.AddSingleton(time);
        configure(builder);
        return builder.Build();
    }

    private string ConnectionString => "Endpoints=" + string.Join(',', group.Cluster.Topology.Nodes.Select(n => n.GrpcEndPoint));

    [Fact]
    public async Task The_cache_misses_an_entry_from_its_absolute_expiration_and_its_lease_deletes_it_soon_after()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var app = App(builder => builder.AddKvAspireDistributedCache("kv"), clock);
        var cache = app.Services.GetRequiredService<IDistributedCache>();
        var kv = app.Services.GetRequiredService<IKvClient>();

        await cache.SetStringAsync("absolute", "v", new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(1) });
        var before = await cache.GetStringAsync("absolute");
        clock.Advance(TimeSpan.FromSeconds(1));
        var after = await cache.GetStringAsync("absolute");
        await cache.SetStringAsync("forever", "kept");

        Assert.Equal(("v", null), (before, after));
        await Wait.UntilAsync(async () => !await kv.ExistsAsync("cache/absolute"), TimeSpan.FromSeconds(15), "the entry's lease to delete its key");
        Assert.Equal("kept", await cache.GetStringAsync("forever"));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cache.SetStringAsync("past", "v",
            new DistributedCacheEntryOptions { AbsoluteExpiration = clock.GetUtcNow() - TimeSpan.FromSeconds(1) }));
        Assert.False(await kv.ExistsAsync("cache/past"));
    }

    [Fact]
    public async Task The_cache_slides_an_entry_on_each_read_and_refresh_up_to_its_absolute_expiration()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var app = App(builder => builder.AddKvAspireDistributedCache("kv"), clock);
        var cache = app.Services.GetRequiredService<IDistributedCache>();
        await cache.SetStringAsync("sliding", "s", new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(2) });
        await cache.SetStringAsync("capped", "c", new DistributedCacheEntryOptions
        {
            SlidingExpiration = TimeSpan.FromSeconds(2), AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(3),
        });

        var seen = new List<string?>();
        clock.Advance(TimeSpan.FromSeconds(1.5));
        seen.Add(await cache.GetStringAsync("sliding"));
        await cache.RefreshAsync("capped");
        clock.Advance(TimeSpan.FromSeconds(1.5));
        seen.Add(await cache.GetStringAsync("sliding"));
        seen.Add(await cache.GetStringAsync("capped"));
        clock.Advance(TimeSpan.FromSeconds(2));
        seen.Add(await cache.GetStringAsync("sliding"));

        // 3 s after it was set, the sliding entry read 1.5 s before lives; the capped one, refreshed too, does not.
        Assert.Equal(["s", "s", null, null], seen);
    }

    [Fact]
    public async Task HybridCache_on_the_cache_serves_a_second_app_from_the_first_apps_entry()
    {
        using var first = App(builder => { builder.AddKvAspireDistributedCache("kv"); builder.Services.AddHybridCache(); });
        using var second = App(builder => { builder.AddKvAspireDistributedCache("kv"); builder.Services.AddHybridCache(); });
        var made = 0;

        var one = await first.Services.GetRequiredService<HybridCache>().GetOrCreateAsync("hybrid", _ => ValueTask.FromResult($"made {++made}"));
        // HybridCache writes its second level after it answers.
        await Wait.UntilAsync(async () => await first.Services.GetRequiredService<IKvClient>().ExistsAsync("cache/hybrid"), TimeSpan.FromSeconds(10), "the first app's entry written");
        var two = await second.Services.GetRequiredService<HybridCache>().GetOrCreateAsync("hybrid", _ => ValueTask.FromResult($"made {++made}"));

        Assert.Equal(("made 1", "made 1", 1), (one, two, made));
    }

    public sealed class StepOptions
    {
        public int Step { get; set; }

        public string? Label { get; set; }
    }

    [Fact]
    public async Task The_configuration_source_reloads_on_every_change_so_options_monitors_see_it()
    {
        using var kv = group.Client();
        await kv.CreateAsync("settings/App/Step", "1");
        using var configuration = new ConfigurationManager();
        configuration["ConnectionStrings:kv"] = ConnectionString;
        configuration.AddKvAspire("settings/");
        using var services = new ServiceCollection().Configure<StepOptions>(configuration.GetSection("App")).BuildServiceProvider();
        var monitor = services.GetRequiredService<IOptionsMonitor<StepOptions>>();
        var changes = new ConcurrentQueue<int>();
        using var listening = monitor.OnChange(options => changes.Enqueue(options.Step));

        var loaded = monitor.CurrentValue.Step;
        await kv.UpdateAsync("settings/App/Step", "2");
        await Wait.UntilAsync(() => monitor.CurrentValue.Step == 2, TimeSpan.FromSeconds(10), "the update to reload");
        await kv.CreateAsync("settings/App/Label", "live");
        await Wait.UntilAsync(() => monitor.CurrentValue.Label == "live", TimeSpan.FromSeconds(10), "the new key to reload");
        await kv.DeleteAsync("settings/App/Label");
        await Wait.UntilAsync(() => monitor.CurrentValue.Label is null, TimeSpan.FromSeconds(10), "the delete to reload");

        Assert.Equal(1, loaded);
        Assert.Contains(2, changes);
        Assert.Equal("2", configuration["App:Step"]);
    }

    [Fact]
    public void A_configuration_source_on_an_unreachable_cluster_fails_the_start_saying_why_unless_optional()
    {
        ConfigurationManager Unreachable(bool optional)
        {
            var configuration = new ConfigurationManager();
            configuration["ConnectionStrings:kv"] = $"127.0.0.1:{TestPorts.Take(1)[0]}";
            configuration["Aspire:KvAspire:Client:RequestTimeout"] = "00:00:01";
            return configuration.AddKvAspire("settings/", optional: optional) as ConfigurationManager ?? throw new InvalidOperationException();
        }

        var error = Assert.Throws<InvalidOperationException>(() => Unreachable(optional: false));
        using var optional = Unreachable(optional: true);

        Assert.Contains("could not read configuration under 'settings/' from KvAspire", error.Message);
        Assert.Null(optional["App:Step"]);
    }

    [Fact]
    public async Task The_lock_admits_one_holder_at_a_time_under_contention_each_with_a_higher_fencing_token()
    {
        var apps = Enumerable.Range(0, 4).Select(_ => App(builder => builder.AddKvAspireDistributedLocks("kv"))).ToList();
        var inside = 0;
        var most = 0;
        var tokens = new ConcurrentQueue<long>();

        await Task.WhenAll(apps.Select(app => Task.Run(async () =>
        {
            var locks = app.Services.GetRequiredService<IDistributedLockProvider>();
            for (var round = 0; round < 5; round++)
            {
                await using var handle = await locks.AcquireLockAsync("contended", TimeSpan.FromSeconds(60));
                var now = Interlocked.Increment(ref inside);
                InterlockedMax(ref most, now);
                tokens.Enqueue(((KvLockHandle)handle).FencingToken);
                // Held for a while, as a real exclusive step is: a lock that let two in would show here.
                await Task.Delay(TimeSpan.FromMilliseconds(20));
                Interlocked.Decrement(ref inside);
            }
        })));

        Assert.Equal(1, most);
        Assert.Equal(20, tokens.Count);
        Assert.True(tokens.Zip(tokens.Skip(1)).All(pair => pair.First < pair.Second), $"fencing tokens in the order taken: {string.Join(", ", tokens)}");
        apps.ForEach(app => app.Dispose());
    }

    [Fact]
    public async Task A_lock_whose_holder_died_is_free_once_its_lease_lapsed_and_not_before()
    {
        using var app = App(builder => builder.AddKvAspireDistributedLocks("kv", options => options.LeaseTtl = TimeSpan.FromSeconds(4)));
        var locks = app.Services.GetRequiredService<IDistributedLockProvider>();
        var kv = app.Services.GetRequiredService<IKvClient>();

        // A holder that stops renewing, as a crashed process does.
        var died = Stopwatch.StartNew();
        await using (var dead = await kv.GrantLeaseAsync(TimeSpan.FromSeconds(4), "locks/abandoned"))
        {
            await kv.CreateAsync("locks/abandoned", "dead holder"u8.ToArray(), dead.Id);
            dead.Abandon();
        }
        var whileHeld = await locks.TryAcquireLockAsync("abandoned");
        await using var taken = await locks.AcquireLockAsync("abandoned", TimeSpan.FromSeconds(20));
        var waited = died.Elapsed;

        Assert.Null(whileHeld);
        Assert.True(waited >= TimeSpan.FromSeconds(4), $"taken {waited.TotalMilliseconds:F0} ms after the holder's lease was granted, before its TTL");
        Assert.True(waited <= TimeSpan.FromSeconds(8), $"taken {waited.TotalMilliseconds:F0} ms after the holder's lease was granted");
        Assert.False(taken.HandleLostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task Two_apps_sharing_the_key_ring_unprotect_what_the_other_protected()
    {
        IHost ProtectingApp() => App(builder =>
        {
            builder.AddKvAspireClient("kv");
            builder.Services.AddDataProtection().SetApplicationName("conventions").PersistKeysToKvAspire("keyring/");
        });
        using var first = ProtectingApp();
        using var second = ProtectingApp();

        var secret = first.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Protect("shared secret");
        var read = second.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("test").Unprotect(secret);

        Assert.Equal("shared secret", read);
        using var kv = group.Client();
        Assert.Single(await kv.ListAsync("keyring/").ToListAsync());
    }

    private static void InterlockedMax(ref int most, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, value, seen) != seen)
        {
        }
    }
}
