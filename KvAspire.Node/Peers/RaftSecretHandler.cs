using KvAspire.Configuration;

namespace KvAspire.Node.Peers;

/// <summary>Adds the cluster secret to every Raft message this node sends.</summary>
public sealed class RaftSecretHandler(ClusterSecret secret) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.TryAddWithoutValidation(ClusterSecret.Header, secret.Value);
        return base.SendAsync(request, cancellationToken);
    }
}
