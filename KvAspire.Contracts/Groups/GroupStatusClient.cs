using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using KvAspire.Cluster;

namespace KvAspire.Groups;

/// <summary>Reads a node's <c>GET /status</c> (its <see cref="GroupStatusReport"/>) on its RaftPort.</summary>
public static class GroupStatusClient
{
    public const string Path = "/status";

    /// <summary>The node's report, or null when it does not answer within the client's timeout.</summary>
    public static async Task<GroupStatusReport?> TryGetAsync(HttpClient http, NodeInfo node, CancellationToken cancellationToken)
    {
        try
        {
            return await http.GetFromJsonAsync<GroupStatusReport>(new Uri($"{node.HttpUri}{Path}"), cancellationToken);
        }
        // A connection reset the moment it is made (a node stopping) comes out of HttpClient as a bare SocketException.
        catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
