using System.Security.Cryptography;
using Grpc.Net.Client;
using KvAspire.Security;

namespace KvAspire.Driver.Transport;

/// <summary>
/// How the client reaches a node: its address as a URL (<c>host:port</c> becomes <c>https://</c> when the
/// client is given the cluster's CA, <c>http://</c> otherwise) and a gRPC channel to it, which over TLS
/// trusts the cluster's CA alone and checks the node's host as usual.
/// </summary>
internal sealed class NodeChannels(ClusterAuthority? authority)
{
    /// <summary>A client without TLS.</summary>
    public static NodeChannels Plaintext { get; } = new(null);

    /// <summary>The channels <paramref name="options"/> ask for: over TLS when they name a CA (<see cref="KvClientOptions.Authority"/>).</summary>
    /// <exception cref="ArgumentException">The CA's file cannot be read or holds no certificate.</exception>
    public static NodeChannels For(KvClientOptions options)
    {
        if (options.Authority is not { } path)
            return Plaintext;
        try
        {
            return new NodeChannels(ClusterAuthority.Load(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ArgumentException($"{nameof(KvClientOptions.Authority)}: cannot read the cluster's CA certificate from {path}: {e.Message}", e);
        }
    }

    /// <summary>"host:port" or a full http(s) URL, as a URL.</summary>
    public string Address(string node) =>
        node.Contains("://", StringComparison.Ordinal) ? node.TrimEnd('/') : $"{(authority is null ? "http" : "https")}://{node}";

    /// <summary>A channel connects on its first call and then stays open: one per node for the whole session.</summary>
    public GrpcChannel Open(string address) => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = null,
        MaxSendMessageSize = null,
        HttpHandler = authority?.Handler(),
    });
}
