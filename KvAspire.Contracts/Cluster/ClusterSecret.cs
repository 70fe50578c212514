using System.Security.Cryptography;
using System.Text;

namespace KvAspire.Cluster;

/// <summary>
/// The secret the nodes of a cluster share, so that cluster-internal traffic (Raft, forwards, hand-offs to
/// the leader) is accepted only from members. Read from <see cref="Variable"/>; sent in the
/// <see cref="Header"/> request header. Without one, internal traffic is not checked: fine for a
/// development cluster on loopback, not for one on a network. Clients never need it.
/// </summary>
public sealed class ClusterSecret
{
    /// <summary>The environment variable (or configuration key) that holds the secret.</summary>
    public const string Variable = "KVASPIRE_CLUSTER_SECRET";

    public const string Header = "kvaspire-cluster-secret";

    private readonly byte[]? _bytes;

    public ClusterSecret(string? value)
    {
        Value = string.IsNullOrEmpty(value) ? null : value;
        _bytes = Value is null ? null : Encoding.UTF8.GetBytes(Value);
    }

    /// <summary>The secret to send, or null when none is configured.</summary>
    public string? Value { get; }

    /// <summary>Whether a request that presents <paramref name="presented"/> comes from a member.</summary>
    public bool Admits(string? presented) =>
        _bytes is null
        || (presented is not null && CryptographicOperations.FixedTimeEquals(_bytes, Encoding.UTF8.GetBytes(presented)));
}
