using Medallion.Threading;
using Microsoft.Extensions.Options;

namespace KvAspire.Driver.Aspire.Locking;

/// <summary>DistributedLock's <see cref="IDistributedLockProvider"/> on KvAspire: a lock is a key held by its holder's lease.</summary>
public sealed class KvDistributedLockProvider(IKvClient kv, IOptions<KvDistributedLockOptions> options) : IDistributedLockProvider
{
    public KvDistributedLock CreateLock(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new KvDistributedLock(kv, name, options.Value.KeyPrefix + name, options.Value.LeaseTtl);
    }

    IDistributedLock IDistributedLockProvider.CreateLock(string name) => CreateLock(name);
}
