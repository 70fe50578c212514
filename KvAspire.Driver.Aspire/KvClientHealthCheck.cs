using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KvAspire.Driver.Aspire;

/// <summary>Healthy while the cluster answers a read (a key that does not exist is an answer).</summary>
internal sealed class KvClientHealthCheck(IKvClient client) : IHealthCheck
{
    private const string ProbeKey = "kvaspire-health-probe";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await client.ReadAsync(ProbeKey, cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (KvKeyNotFoundException)
        {
            return HealthCheckResult.Healthy();
        }
        catch (KvException e)
        {
            return HealthCheckResult.Unhealthy($"the KvAspire cluster did not answer: {e.Message}", e);
        }
    }
}
