namespace KvAspire.Tests.Support;

/// <summary>A test on namespaced hosts: skipped, saying why, where the machine does not allow network namespaces.</summary>
public sealed class NamespacedHostsFactAttribute : FactAttribute
{
    public NamespacedHostsFactAttribute()
    {
        if (NetworkHosts.WhyUnavailable is { } why)
            Skip = $"needs network namespaces: {why}";
    }

    /// <summary>The test also cuts or degrades links (nftables inside the hosts' namespaces).</summary>
    public bool CutsLinks
    {
        get => Skip is not null;
        init
        {
            if (value && NetworkHosts.WhyNoLinkFaults is { } why)
                Skip = $"needs link faults: {why}";
        }
    }
}
