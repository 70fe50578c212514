using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Node.Api;

/// <summary>
/// The ring's layout for any caller, no secret and no admission needed: a client given one endpoint
/// learns from it where every key lives. The layout is the topology's, fixed while the node runs.
/// </summary>
public sealed class ClusterInfoService(ClusterTopology topology) : ClusterInfo.ClusterInfoBase
{
    private readonly Layout _layout = RingLayout.Of(topology).ToMessage();

    public override Task<Layout> GetLayout(GetLayoutRequest request, ServerCallContext context) => Task.FromResult(_layout);
}
