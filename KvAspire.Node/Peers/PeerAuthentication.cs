using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using KvAspire.Cluster;

namespace KvAspire.Node.Peers;

/// <summary>
/// The one place a node handles the cluster secret (<see cref="ClusterSecret"/>, from
/// <c>KVASPIRE_CLUSTER_SECRET</c>): it puts the secret on every call this node makes to another, gRPC and
/// Raft's HTTP alike, and tells whether a call it receives comes from a member. Without a secret no call
/// can prove that, and every call is taken as a member's: fine on loopback, not on a network (the node
/// says so at start).
/// </summary>
public sealed class PeerAuthentication(ClusterSecret secret)
{
    /// <summary>Whether members prove themselves: a secret is set.</summary>
    public bool Enabled => secret.Value is not null;

    /// <summary>Whether a gRPC call presents the secret (every call does when none is set).</summary>
    public bool IsMember(Metadata headers) => secret.Admits(headers.GetValue(ClusterSecret.Header));

    /// <summary>Whether an HTTP request, a Raft message, presents the secret (every one does when none is set).</summary>
    public bool IsMember(IHeaderDictionary headers) => secret.Admits(headers[ClusterSecret.Header]);

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
