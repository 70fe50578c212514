using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using KvAspire.Groups;
using KvAspire.Security;

namespace KvAspire.Tests.Support;

/// <summary>Asks nodes for their view of their Raft group (<c>GET /status</c>) and waits on it.</summary>
public static class GroupProbe
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };
    // One client per cluster CA, trusting that CA alone.
    private static readonly ConcurrentDictionary<string, HttpClient> HttpsFor = new();
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The node's view of its group, or null when it does not answer.</summary>
    public static async Task<GroupStatusReport?> StatusAsync(TestNode node)
    {
        try
        {
            return await HttpOf(node).GetFromJsonAsync<GroupStatusReport>(node.StatusAddress, Json);
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Whether the node's <c>/alive</c> answers 200 (its process is up, serving or starting).</summary>
    public static async Task<bool> IsAliveAsync(TestNode node)
    {
        try
        {
            using var alive = await HttpOf(node).GetAsync(node.AliveAddress);
            return alive.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>A client for <paramref name="node"/>'s HTTP port: over TLS trusting its cluster's CA when it has one.</summary>
    public static HttpClient HttpOf(TestNode node) => node.Authority is not { } authority
        ? Http
        : HttpsFor.GetOrAdd(authority, path => new HttpClient(ClusterAuthority.Load(path).Handler())
        {
            Timeout = Http.Timeout,
        });

    // Each poll asks every replica: not more often than this on two cores shared with the nodes.
    private static readonly TimeSpan StatusPollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>The one of <paramref name="replicas"/> that says it leads, once one does.</summary>
    public static async Task<TestNode> WaitForLeaderAsync(IEnumerable<TestNode> replicas, TimeSpan timeout)
    {
        var candidates = replicas.ToList();
        TestNode? leader = null;
        await Wait.UntilAsync(async () =>
        {
            foreach (var node in candidates)
            {
                if (await StatusAsync(node) is { Role: "leader" })
                {
                    leader = node;
                    return true;
                }
            }
            return false;
        }, timeout, $"one of {string.Join(", ", candidates.Select(n => n.Name))} to lead", StatusPollInterval);
        return leader!;
    }

    /// <summary>Waits until <paramref name="node"/> has applied everything its group's leader had applied when the wait began.</summary>
    public static async Task WaitCaughtUpAsync(TestNode node, IEnumerable<TestNode> replicas, TimeSpan timeout)
    {
        var leader = await WaitForLeaderAsync(replicas, timeout);
        var target = (await StatusAsync(leader))?.AppliedIndex ?? 0;
        await Wait.UntilAsync(async () => await StatusAsync(node) is { Leader: not null } status && status.AppliedIndex >= target, timeout,
            $"{node.Name} to apply up to index {target}", StatusPollInterval);
    }
}
