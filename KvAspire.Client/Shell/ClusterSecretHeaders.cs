using Grpc.Core;
using KvAspire.Cluster;

namespace KvAspire.Client.Shell;

/// <summary>The headers of the console's Admin calls: the cluster secret from the environment, when it is set.</summary>
public static class ClusterSecretHeaders
{
    public static Metadata FromEnvironment() =>
        Environment.GetEnvironmentVariable(ClusterSecret.Variable) is { Length: > 0 } secret
            ? new Metadata { { ClusterSecret.Header, secret } }
            : [];
}
