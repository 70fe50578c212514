using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using KvAspire.Configuration;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Node.Ring;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using KvAspire.Replication;
using KvAspire.V1;

namespace KvAspire.Node.Api;

/// <summary>The public gRPC API. Each handler validates, queues in F1, awaits the answer and maps it.</summary>
[BindServiceMethod(typeof(KeyValueBinding), nameof(KeyValueBinding.BindService))]
public sealed class KeyValueService(RequestValidator validator, IntakeQueue intake, NodeTelemetry telemetry, ClusterSecret secret, TimeProvider clock)
    : KeyValue.KeyValueBase
{
    public override async Task<WriteReply> Create(CreateRequest request, ServerCallContext context) =>
        ToWriteReply(await ExecuteAsync(validator.Create(request), context));

    public override async Task<ReadReply> Read(ReadRequest request, ServerCallContext context)
    {
        var result = await ExecuteAsync(RequestValidator.Read(request), context);
        return new ReadReply
        {
            Value = UnsafeByteOperations.UnsafeWrap(result.Value),
            Version = result.Version,
            TimestampUnixMs = result.TimestampUnixMs,
            Hops = result.Hops,
        };
    }

    public override async Task<WriteReply> Update(UpdateRequest request, ServerCallContext context) =>
        ToWriteReply(await ExecuteAsync(validator.Update(request), context));

    public override async Task<WriteReply> Delete(DeleteRequest request, ServerCallContext context) =>
        ToWriteReply(await ExecuteAsync(RequestValidator.Delete(request), context));

    private async Task<OperationResult> ExecuteAsync(KvCommand command, ServerCallContext context)
    {
        var started = clock.GetTimestamp();
        try
        {
            var handedToLeader = context.RequestHeaders.GetValue(PeerClients.ToLeaderHeader) is not null;
            // Only another node may say a request was forwarded or handed over: it changes how it is routed.
            if ((handedToLeader || context.RequestHeaders.GetValue(PeerClients.HopsHeader) is not null)
                && !secret.Admits(context.RequestHeaders.GetValue(ClusterSecret.Header)))
                throw new RpcException(new Status(StatusCode.PermissionDenied, "a node-to-node request without the cluster secret"));
            var result = await intake.ExecuteAsync(command, HopsSoFar(context), handedToLeader, context.CancellationToken);
            telemetry.RecordOperation(command.Kind, result.Code.ToString(), clock.GetElapsedTime(started));
            if (result.Leader is { } leader)
                context.ResponseTrailers.Add(LeaderHint.Trailer, leader);
            return StatusMapping.EnsureOk(result);
        }
        catch (IOException e)
        {
            telemetry.RecordOperation(command.Kind, "Unavailable", clock.GetElapsedTime(started));
            throw StatusMapping.Unavailable(e);
        }
        catch (RpcException e)
        {
            // Answered by another position, or it could not be reached.
            telemetry.RecordOperation(command.Kind, e.StatusCode.ToString(), clock.GetElapsedTime(started));
            throw;
        }
    }

    private static int HopsSoFar(ServerCallContext context) =>
        int.TryParse(context.RequestHeaders.GetValue(PeerClients.HopsHeader), NumberStyles.None, CultureInfo.InvariantCulture, out var hops) ? hops : 0;

    private static WriteReply ToWriteReply(OperationResult result) =>
        new() { Version = result.Version, TimestampUnixMs = result.TimestampUnixMs, Hops = result.Hops };
}
