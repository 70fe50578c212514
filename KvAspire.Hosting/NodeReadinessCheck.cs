using KvAspire.Cluster;
using KvAspire.Security;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>
/// A node of a cluster with TLS is ready while its <c>/health</c> answers 200 (its group has a leader),
/// asked over TLS trusting the cluster's CA alone: what Aspire's own HTTP check does, which would trust the
/// machine's roots only.
/// </summary>
internal sealed class NodeReadinessCheck(NodeInfo node, ClusterAuthority authority) : IHealthCheck
{
    private readonly HttpClient _http = new(authority.Handler()) { Timeout = TimeSpan.FromSeconds(5) };

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await _http.GetAsync($"{node.HttpUri}/health", cancellationToken);
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"{node.Name}: /health answered {(int)response.StatusCode}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"{node.Name} does not answer at {node.HttpUri}", e);
        }
    }
}
