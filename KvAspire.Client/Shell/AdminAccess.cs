using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Cluster;
using KvAspire.Security;

namespace KvAspire.Client.Shell;

/// <summary>
/// How the console's own calls reach the nodes (Admin calls, the layout, <c>/status</c>): over TLS when it
/// has the cluster's CA (<c>--ca</c>, else the topology's <c>Cluster.Tls.Authority</c>), presenting the
/// certificate given (<c>--cert</c>, <c>--key</c>: Admin calls on a cluster with TLS need a member's), and
/// with the cluster secret from the environment when it is set.
/// </summary>
public sealed class AdminAccess : IDisposable
{
    private readonly ClusterAuthority? _authority;
    private readonly X509Certificate2? _certificate;

    private AdminAccess(ClusterAuthority? authority, X509Certificate2? certificate) => (_authority, _certificate) = (authority, certificate);

    /// <summary>The CA's file, for the client library (<c>KvClientOptions.Authority</c>); null for a plaintext cluster.</summary>
    public string? AuthorityPath { get; private init; }

    /// <summary>The headers of every Admin call: the cluster secret, when <c>KVASPIRE_CLUSTER_SECRET</c> is set.</summary>
    public Metadata Headers { get; } = Environment.GetEnvironmentVariable(ClusterSecret.Variable) is { Length: > 0 } secret
        ? new Metadata { { ClusterSecret.Header, secret } }
        : [];

    /// <exception cref="ArgumentException">A file cannot be read, or a certificate is given without its key.</exception>
    public static AdminAccess From(string? caPath, string? certificatePath, string? keyPath, ClusterTopology? topology)
    {
        var authorityPath = caPath ?? topology?.Tls?.AuthorityPath;
        if ((certificatePath is null) != (keyPath is null))
            throw new ArgumentException("--cert and --key go together: the certificate to present and its private key");
        try
        {
            var authority = authorityPath is null ? null : ClusterAuthority.Load(authorityPath);
            var certificate = certificatePath is null ? null : ClusterAuthority.LoadCertificate(certificatePath, keyPath!);
            if (certificate is not null && authority is null)
                throw new ArgumentException("--cert is for a cluster with TLS: give its CA with --ca");
            return new AdminAccess(authority, certificate) { AuthorityPath = authorityPath };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new ArgumentException($"cannot read the TLS files ({authorityPath ?? "no CA"}{(certificatePath is null ? "" : $", {certificatePath}, {keyPath}")}): {e.Message}", e);
        }
    }

    /// <summary>A node's gRPC address (host:port, or a URL) as a URL: https when the console has the cluster's CA.</summary>
    public string Url(string node) => node.Contains("://", StringComparison.Ordinal) ? node : $"{(_authority is null ? "http" : "https")}://{node}";

    public GrpcChannel Channel(string node, int? maxReceiveMessageSize = null) => GrpcChannel.ForAddress(Url(node), new GrpcChannelOptions
    {
        MaxReceiveMessageSize = maxReceiveMessageSize,
        HttpHandler = Handler(),
    });

    /// <summary>A client for the nodes' <c>/status</c>.</summary>
    public HttpClient StatusClient(TimeSpan timeout) => new(Handler()) { Timeout = timeout };

    private SocketsHttpHandler Handler() => _authority?.Handler(_certificate is { } certificate ? () => certificate : null) ?? new SocketsHttpHandler();

    public void Dispose()
    {
        _authority?.Dispose();
        _certificate?.Dispose();
    }
}
