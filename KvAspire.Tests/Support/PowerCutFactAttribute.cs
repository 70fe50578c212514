namespace KvAspire.Tests.Support;

/// <summary>A power-cut test: skipped, saying why, where its file layer cannot be built (Linux x64 with gcc).</summary>
public sealed class PowerCutFactAttribute : FactAttribute
{
    public PowerCutFactAttribute() => Skip = PowerCutDisk.WhyUnavailable;
}
