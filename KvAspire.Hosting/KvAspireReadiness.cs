using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KvAspire.Hosting;

/// <summary>
/// Whether a set of ring positions can serve: each has a node whose <c>/health</c> says ready (its group
/// has a leader). A position's resource checks itself (a health check); the cluster checks them all and
/// shows the result as its state, so <c>WaitFor(kv)</c> waits until every key can be read and written.
/// </summary>
internal sealed class KvAspireReadiness(IReadOnlyList<(int Position, IReadOnlyList<string> HealthUrls)> positions) : IHealthCheck
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var notReady = new List<int>();
        foreach (var (position, urls) in positions)
        {
            var answers = await Task.WhenAll(urls.Select(url => IsReadyAsync(url, cancellationToken)));
            if (!answers.Any(ready => ready))
                notReady.Add(position);
        }
        return notReady.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy($"no ready node (a group with a leader) in position(s) {string.Join(", ", notReady)}");
    }

    private static async Task<bool> IsReadyAsync(string url, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await Http.GetAsync(url, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
