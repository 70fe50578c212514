using Grpc.Core;
using KvAspire.Node.Replication;
using KvAspire.V1;

namespace KvAspire.Node.Api;

/// <summary>
/// The calls a position's replicas make of each other over gRPC: <c>ReadIndex</c>, answered by the leader
/// for a follower that serves linearizable reads (<see cref="FollowerReads"/>). Every call needs the
/// cluster secret when there is one (<see cref="ClusterSecretInterceptor"/>).
/// </summary>
public sealed class ReplicaService(ReplicationPath replication) : Replica.ReplicaBase
{
    public override async Task<ReadIndexReply> ReadIndex(ReadIndexRequest request, ServerCallContext context) =>
        new() { Index = await replication.ConfirmReadIndexAsync(context.CancellationToken) };
}
