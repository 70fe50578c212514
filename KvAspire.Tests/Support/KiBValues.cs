using KvAspire.Driver;

namespace KvAspire.Tests.Support;

/// <summary>Many keys of 1 KiB written fast: 100 a transaction (the keys of one position each), 4 transactions at a time.</summary>
public static class KiBValues
{
    public static Task WriteAsync(IKvClient client, IEnumerable<string> keys) =>
        Parallel.ForEachAsync(keys.Chunk(100), new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (chunk, _) => await client.TxnAsync(chunk.Aggregate(new KvTransaction(), (txn, key) => txn.ThenPut(key, new string('s', 1024)))));
}
