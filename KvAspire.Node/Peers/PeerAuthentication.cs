using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using KvAspire.Cluster;

namespace KvAspire.Node.Peers;

/// <summary>
/// The one place a node decides whether a call comes from a member, and proves it is one on the calls
/// it makes. Two proofs, each checked when the cluster has it: the member certificate the caller
/// presented over TLS (<see cref="MemberTls"/>: one the cluster's CA issued, naming a member) and the
/// cluster secret (<see cref="ClusterSecret"/>, from <c>KVASPIRE_CLUSTER_SECRET</c>, a header on every
/// call this node makes). With neither, no call can prove anything and every call is taken as a member's:
/// fine on loopback, not on a network (the node says so at start).
/// </summary>
public sealed class PeerAuthentication(ClusterSecret secret, MemberTls tls, IReadOnlySet<string> positionMembers)
{
    /// <summary>Whether members prove themselves: a secret is set, or the cluster has TLS.</summary>
    public bool Enabled => secret.Value is not null || tls.Enabled;

    /// <summary>Why a gRPC call is not a member's (any member), or null when it is.</summary>
    public string? NotMember(ServerCallContext context) =>
        Refusal(context.RequestHeaders.GetValue(ClusterSecret.Header), context.GetHttpContext().Connection.ClientCertificate, _ => true);

    /// <summary>Why an HTTP request, a Raft message, is not from a member of this node's position, or null when it is.</summary>
    public string? NotPositionMember(HttpContext context) =>
        Refusal(context.Request.Headers[ClusterSecret.Header], context.Connection.ClientCertificate, positionMembers.Contains);

    private string? Refusal(string? presentedSecret, X509Certificate2? certificate, Func<string, bool> accepts)
    {
        if (!secret.Admits(presentedSecret))
            return $"the cluster secret ({ClusterSecret.Variable}) was not presented";
        if (tls.Authority is not { } authority)
            return null;
        if (authority.MemberOf(certificate, out var reason) is not { } member)
            return $"not a member's certificate: {reason}";
        return accepts(member) ? null : $"{member} is not a member of this node's position";
    }

    /// <summary>Calls on <paramref name="channel"/>, each with the secret when one is set.</summary>
    public CallInvoker Sign(GrpcChannel channel) => secret.Value is { } value
        ? channel.Intercept(headers =>
        {
            headers.Add(ClusterSecret.Header, value);
            return headers;
        })
        : channel.CreateCallInvoker();

    /// <summary>A new handler for DotNext's HTTP client that puts the secret, when one is set, on each Raft message.</summary>
    public DelegatingHandler NewRaftMessageSigner() => new RaftMessageSigner(secret.Value);

    private sealed class RaftMessageSigner(string? value) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (value is not null)
                request.Headers.TryAddWithoutValidation(ClusterSecret.Header, value);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
