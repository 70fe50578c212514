namespace KvAspire.Tests.Support;

/// <summary>A test on namespaced hosts: skipped, saying why, where the machine does not allow network namespaces.</summary>
public sealed class NamespacedHostsFactAttribute : FactAttribute
{
    public NamespacedHostsFactAttribute() => Skip = NamespacedHostsSkip.Reason(cutsLinks: false);
}

/// <summary>A theory on namespaced hosts that also cuts or degrades links (nftables inside the hosts' namespaces).</summary>
public sealed class NamespacedHostsTheoryAttribute : TheoryAttribute
{
    public NamespacedHostsTheoryAttribute() => Skip = NamespacedHostsSkip.Reason(cutsLinks: true);
}

internal static class NamespacedHostsSkip
{
    public static string? Reason(bool cutsLinks) =>
        NetworkHosts.WhyUnavailable is { } why ? $"needs network namespaces: {why}"
        : cutsLinks && NetworkHosts.WhyNoLinkFaults is { } noLinks ? $"needs link faults: {noLinks}"
        : null;
}
