namespace KvAspire.Tests.Support;

/// <summary>A test on namespaced hosts: skipped, saying why, where the machine does not allow network namespaces.</summary>
public sealed class NamespacedHostsFactAttribute : FactAttribute
{
    public NamespacedHostsFactAttribute()
    {
        if (NetworkHosts.WhyUnavailable is { } why)
            Skip = $"needs network namespaces: {why}";
    }
}
