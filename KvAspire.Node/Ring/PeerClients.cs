using System.Collections.Frozen;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using KvAspire.Configuration;
using KvAspire.Node.Configuration;
using KvAspire.Node.Replication;
using KvAspire.Node.Storage;
using KvAspire.Replication;
using KvAspire.Ring;
using KvAspire.V1;

namespace KvAspire.Node.Ring;

/// <summary>
/// gRPC channels to the other nodes, one each, opened once. A forward uses the public API, exactly as a
/// client would (R-RPC-1), and tells the next node how many hops the request has taken in a header, with
/// the cluster secret when there is one.
/// </summary>
public sealed class PeerClients : IDisposable
{
    /// <summary>Request header: server-to-server forwards so far.</summary>
    public const string HopsHeader = "kvaspire-hops";

    /// <summary>Request header: a follower handed this request to the leader of its own position.</summary>
    public const string ToLeaderHeader = "kvaspire-to-leader";

    private readonly FrozenDictionary<string, GrpcChannel> _channels;
    private readonly ClusterSecret _secret;

    private readonly TimeProvider _clock;

    public PeerClients(ClusterTopology topology, NodeInfo self, ClusterSecret secret, NodeTimings timings, TimeProvider clock)
    {
        _secret = secret;
        _clock = clock;
        _channels = topology.Nodes.Where(n => n.Name != self.Name).ToFrozenDictionary(n => n.Name, n =>
            GrpcChannel.ForAddress(n.GrpcAddress, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler
                {
                    ConnectTimeout = timings.PeerConnectTimeout,
                    KeepAlivePingDelay = timings.PeerKeepAlivePingDelay,
                    KeepAlivePingTimeout = timings.PeerKeepAlivePingTimeout,
                    KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                    EnableMultipleHttp2Connections = true,
                },
                MaxReceiveMessageSize = null,
                MaxSendMessageSize = null,
                InitialReconnectBackoff = timings.FirstPeerReconnectBackoff,
                MaxReconnectBackoff = timings.MaxPeerReconnectBackoff,
            }));
    }

    /// <summary>
    /// Returns once <paramref name="node"/> has answered a health check, whatever it says: the link works
    /// (an open connection alone proves nothing while packets are dropped).
    /// </summary>
    public async Task PingAsync(NodeInfo node, TimeSpan timeout)
    {
        using var call = new Health.HealthClient(_channels[node.Name]).CheckAsync(new HealthCheckRequest(), deadline: _clock.GetUtcNow().UtcDateTime + timeout);
        await call;
    }

    /// <summary>Sends <paramref name="operation"/> to <paramref name="node"/>; the answer's hops include this forward.</summary>
    public Task<OperationResult> SendAsync(NodeInfo node, KvCommand operation, int hopsSoFar, DateTime deadline) =>
        SendAsync(node, operation, new Metadata { { HopsHeader, Text(hopsSoFar + 1) } }, 1, deadline);

    /// <summary>
    /// Hands a write to <paramref name="leader"/>, the leader of this node's own position: not a ring hop,
    /// so the hop count goes on unchanged.
    /// </summary>
    public Task<OperationResult> SendToLeaderAsync(NodeInfo leader, KvCommand operation, int hopsSoFar, DateTime deadline) =>
        SendAsync(leader, operation, new Metadata { { HopsHeader, Text(hopsSoFar) }, { ToLeaderHeader, "1" } }, 0, deadline);

    private static string Text(int hops) => hops.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task<OperationResult> SendAsync(NodeInfo node, KvCommand operation, Metadata headers, int addedHops, DateTime deadline)
    {
        try
        {
            return await CallAsync(node, operation, headers, addedHops, deadline);
        }
        catch (RpcException e)
        {
            throw TransportFailure.AsUnavailable(e);
        }
    }

    private async Task<OperationResult> CallAsync(NodeInfo node, KvCommand operation, Metadata headers, int addedHops, DateTime deadline)
    {
        var client = new KeyValue.KeyValueClient(_channels[node.Name]);
        if (_secret.Value is { } secret)
            headers.Add(ClusterSecret.Header, secret);
        var options = new CallOptions(headers, deadline);
        var id = operation.RequestId is { } requestId ? new RequestId { ClientId = requestId.ClientId, Sequence = requestId.Sequence } : null;
        var value = UnsafeByteOperations.UnsafeWrap(operation.Value);
        switch (operation.Kind)
        {
            case OperationKind.Read:
                using (var call = client.ReadAsync(new ReadRequest { Key = operation.Key }, options))
                {
                    var read = await call;
                    return new OperationResult(ResultCode.Ok, read.Version, read.TimestampUnixMs, read.Value.Memory,
                        Hops: read.Hops + addedHops, Leader: LeaderOf(call));
                }
            case OperationKind.Create:
                return await WrittenAsync(client.CreateAsync(new CreateRequest { Key = operation.Key, Value = value, Id = id }, options), addedHops);
            case OperationKind.Update:
                var update = new UpdateRequest { Key = operation.Key, Value = value, Id = id };
                if (operation.ExpectedVersion is { } updateVersion)
                    update.ExpectedVersion = updateVersion;
                return await WrittenAsync(client.UpdateAsync(update, options), addedHops);
            default:
                var delete = new DeleteRequest { Key = operation.Key, Id = id };
                if (operation.ExpectedVersion is { } deleteVersion)
                    delete.ExpectedVersion = deleteVersion;
                return await WrittenAsync(client.DeleteAsync(delete, options), addedHops);
        }
    }

    private static async Task<OperationResult> WrittenAsync(AsyncUnaryCall<WriteReply> call, int addedHops)
    {
        using (call)
        {
            var reply = await call;
            return new OperationResult(ResultCode.Ok, reply.Version, reply.TimestampUnixMs, Hops: reply.Hops + addedHops, Leader: LeaderOf(call));
        }
    }

    private static string? LeaderOf<T>(AsyncUnaryCall<T> call) => call.GetTrailers().GetValue(LeaderHint.Trailer);

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
            channel.Dispose();
    }
}
