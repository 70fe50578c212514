namespace KvAspire.Bench;

/// <summary>
/// A YCSB-style mix over preloaded keys: A 50% reads / 50% updates, B 95/5, C all reads (zipfian by
/// default), plus <c>read</c> (all reads) and <c>write</c> (all updates), uniform by default.
/// </summary>
public sealed record Workload(string Name, double ReadFraction, bool ZipfianByDefault)
{
    public static readonly IReadOnlyList<Workload> All =
    [
        new("A", 0.50, true),
        new("B", 0.95, true),
        new("C", 1.00, true),
        new("read", 1.00, false),
        new("write", 0.00, false),
    ];

    public static Workload? Find(string name) =>
        All.FirstOrDefault(w => string.Equals(w.Name, name, StringComparison.OrdinalIgnoreCase));

    public bool NextIsRead(Random random) => ReadFraction >= 1 || (ReadFraction > 0 && random.NextDouble() < ReadFraction);
}
