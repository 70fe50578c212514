using Grpc.Core;
using KvAspire.Node.Ring;
using KvAspire.V1;

namespace KvAspire.Node.Api;

/// <summary>
/// The ring's layout for any caller, no secret and no admission needed: a client given one endpoint
/// learns from it where every key lives. The layout is the one this node routes with now, with its epoch.
/// </summary>
public sealed class ClusterInfoService(LocalRing ring) : ClusterInfo.ClusterInfoBase
{
    public override Task<Layout> GetLayout(GetLayoutRequest request, ServerCallContext context) => Task.FromResult(ring.Current.Layout.ToMessage());
}
