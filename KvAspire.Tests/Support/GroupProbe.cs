using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using KvAspire.Node.Replication;
using KvAspire.Replication;

namespace KvAspire.Tests.Support;

/// <summary>Asks nodes for their view of their Raft group (<c>GET /status</c>) and waits on it.</summary>
public static class GroupProbe
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The node's view of its group, or null when it does not answer.</summary>
    public static async Task<GroupStatusReport?> StatusAsync(TestNode node)
    {
        try
        {
            return await Http.GetFromJsonAsync<GroupStatusReport>(node.StatusAddress, Json);
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>The one of <paramref name="replicas"/> that says it leads, once one does.</summary>
    public static async Task<TestNode> WaitForLeaderAsync(IEnumerable<TestNode> replicas, TimeSpan timeout)
    {
        var candidates = replicas.ToList();
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            foreach (var node in candidates)
            {
                if (await StatusAsync(node) is { Role: "leader" })
                    return node;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"none of {string.Join(", ", candidates.Select(n => n.Name))} led within {timeout}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until <paramref name="node"/> has applied everything its group's leader had applied when the wait began.</summary>
    public static async Task WaitCaughtUpAsync(TestNode node, IEnumerable<TestNode> replicas, TimeSpan timeout)
    {
        var leader = await WaitForLeaderAsync(replicas, timeout);
        var target = (await StatusAsync(leader))?.AppliedIndex ?? 0;
        var deadline = DateTime.UtcNow + timeout;
        while (await StatusAsync(node) is not { Leader: not null } status || status.AppliedIndex < target)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{node.Name} did not apply up to index {target} within {timeout}");
            await Task.Delay(50);
        }
    }
}
