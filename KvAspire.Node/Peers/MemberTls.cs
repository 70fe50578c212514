using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KvAspire.Cluster;
using KvAspire.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace KvAspire.Node.Peers;

/// <summary>
/// The node's TLS, both ends, when the topology names certificates (<see cref="TopologyTls"/>): its ports
/// serve TLS with its member certificate, accepting client certificates the cluster's CA issued (a
/// member's or a client's; who may do what is decided per request, <see cref="PeerAuthentication"/>), and
/// its calls to other nodes present the same certificate and trust the CA alone. The certificate is read
/// again when its file changes, for new connections: a renewed certificate needs no restart. Without TLS
/// (<see cref="None"/>) every method leaves the plaintext setup as it is.
/// </summary>
public sealed class MemberTls
{
    private readonly TopologyTls? _files;
    private readonly NodeInfo? _node;
    private readonly Lock _reloading = new();
    private X509Certificate2? _certificate;
    private DateTime _certificateWritten;

    private MemberTls(TopologyTls? files, NodeInfo? node, ClusterAuthority? authority) => (_files, _node, Authority) = (files, node, authority);

    /// <summary>A node without TLS.</summary>
    public static MemberTls None { get; } = new(null, null, null);

    public bool Enabled => Authority is not null;

    /// <summary>The cluster's CA; null without TLS.</summary>
    public ClusterAuthority? Authority { get; }

    /// <summary>
    /// <paramref name="node"/>'s TLS as <paramref name="topology"/> sets it, its certificate read and checked
    /// once to fail at start, not at the first connection.
    /// </summary>
    /// <exception cref="TopologyException">A file is missing or holds no usable certificate or key.</exception>
    public static MemberTls For(ClusterTopology topology, NodeInfo node)
    {
        if (topology.Tls is not { } files)
            return None;
        ClusterAuthority authority;
        try
        {
            authority = ClusterAuthority.Load(files.AuthorityPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new TopologyException($"{topology.SourcePath}: Cluster.Tls.Authority {files.AuthorityPath}: {e.Message}");
        }
        var tls = new MemberTls(files, node, authority);
        try
        {
            _ = tls.Certificate;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new TopologyException($"{topology.SourcePath}: {node.Name}'s certificate ({files.CertificateOf(node)}, {files.KeyOf(node)}): {e.Message}");
        }
        // Checked as a peer will check it (which also loads what chain building needs before the first connection waits on it).
        var member = authority.MemberOf(tls.Certificate, out var reason);
        if (member != node.Name)
        {
            throw new TopologyException($"{topology.SourcePath}: {files.CertificateOf(node)} is not {node.Name}'s member certificate from the cluster's CA: " +
                                        (member is null ? reason : $"it names {member} ({ClusterAuthority.MemberUriScheme}:{node.Name} expected)"));
        }
        return tls;
    }

    /// <summary>This node's certificate with its key, read again when its file has changed since.</summary>
    public X509Certificate2 Certificate
    {
        get
        {
            var path = _files!.CertificateOf(_node!);
            var written = File.GetLastWriteTimeUtc(path);
            lock (_reloading)
            {
                if (_certificate is null || written != _certificateWritten)
                {
                    try
                    {
                        _certificate = ClusterAuthority.LoadCertificate(path, _files.KeyOf(_node!));
                        _certificateWritten = written;
                    }
                    catch (Exception e) when (_certificate is not null && e is IOException or CryptographicException)
                    {
                        // The files caught between two writes of a renewal: the certificate in use stays until both are whole.
                    }
                }
                return _certificate;
            }
        }
    }

    /// <summary>Serves TLS on <paramref name="listen"/>, when the cluster has it.</summary>
    public void Serve(ListenOptions listen)
    {
        if (Authority is not { } authority)
            return;
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificateSelector = (_, _) => Certificate,
            // Allowed, not required: probes and clients call without one. What a request needs is checked per request.
            ClientCertificateMode = ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (presented, _, _) => authority.IssuedClient(presented, out _),
        });
    }

    /// <summary>
    /// Calls through <paramref name="handler"/> present this node's certificate and accept a server the CA
    /// trusts that names a member <paramref name="acceptsMember"/> accepts (when the cluster has TLS).
    /// </summary>
    public SocketsHttpHandler Secure(SocketsHttpHandler handler, Func<string?, bool> acceptsMember)
    {
        if (Authority is { } authority)
            handler.SslOptions = authority.ClientOptions(() => Certificate, acceptsMember);
        return handler;
    }

    /// <summary>A client for other nodes' <c>/status</c> (which any caller may read), answered only by a server naming a member <paramref name="acceptsMember"/> accepts.</summary>
    public HttpClient StatusClient(TimeSpan timeout, Func<string?, bool> acceptsMember) =>
        new(Secure(new SocketsHttpHandler(), acceptsMember)) { Timeout = timeout };
}
