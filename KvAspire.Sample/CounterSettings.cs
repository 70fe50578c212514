namespace KvAspire.Sample;

/// <summary>The counters' settings, section <c>Counters</c>: from KvAspire's <c>config/sample/Counters/…</c> keys, reloaded live.</summary>
public sealed class CounterSettings
{
    /// <summary>What an increment adds.</summary>
    public long Step { get; set; } = 1;
}
