using System.Diagnostics;
using DotNext.Net.Cluster.Consensus.Raft;
using Grpc.Core;
using KvAspire.Node.Concurrency;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Errors;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using KvAspire.Operations;
using KvAspire.V1;
using OpenTelemetry;

namespace KvAspire.Node.Replication;

/// <summary>
/// Owns a follower's writes on their way to its leader: one <c>HandOffWrites</c> call at a time carries
/// every write that arrived while the one before was under way (<see cref="CallBatcher{TItem}"/>), so
/// however many callers a follower has, their writes reach the leader together and go into one Raft
/// entry there. Each write gets its own result back. A call that fails fails every write it carried, and
/// the replication path tries each again, under the same request id.
/// </summary>
public sealed class LeaderHandOff
{
    private readonly IRaftCluster _raft;
    private readonly RaftGroup _group;
    private readonly PeerClients _peers;
    private readonly NodeOptions _options;
    private readonly TimeProvider _clock;
    private readonly CallBatcher<HandedOff> _calls;

    public LeaderHandOff(IRaftCluster raft, RaftGroup group, PeerClients peers, NodeOptions options, TimeProvider clock)
    {
        _raft = raft;
        _group = group;
        _peers = peers;
        _options = options;
        _clock = clock;
        _calls = new CallBatcher<HandedOff>(options.EntryWrites, options.EntryBytes, SendAsync);
    }

    /// <summary>One write on its way, and what became of it at the leader.</summary>
    private sealed class HandedOff(PendingRequest request, Activity? span)
    {
        public PendingRequest Request { get; } = request;

        public Activity? Span { get; } = span;

        public Answer? Answer { get; set; }

        public RequestFailedException? Failure { get; set; }
    }

    /// <summary>The leader's answer to <paramref name="request"/>, a write of this position (its map's answer, success or not).</summary>
    /// <exception cref="RequestFailedException">
    /// Unavailable: no other replica leads now, or the leader could not be reached, did not answer in time, or
    /// no longer leads (try again); otherwise the failure the write met at the leader.
    /// </exception>
    public async Task<Answer> HandOffAsync(PendingRequest request, CancellationToken cancellationToken)
    {
        using var span = NodeTelemetry.StartHandOff(request.Operation.Kind, request.TraceContext);
        var write = new HandedOff(request, span);
        try
        {
            await _calls.AddAsync(write, LogRecordFormat.OperationSize(request.Operation)).WaitAsync(cancellationToken);
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        if (write.Failure is { } failure)
        {
            span?.SetStatus(ActivityStatusCode.Error, failure.Message);
            throw failure;
        }
        return write.Answer!.Value;
    }

    private async Task SendAsync(HandedOff[] writes)
    {
        // Sent to whoever leads now. A leader that does not answer within LeaderHandOffTimeout may be
        // frozen: by then the others have elected another, and the retries ask again who leads.
        if (_raft.Leader is not { IsRemote: true } leader)
            throw RequestFailedException.Unavailable($"no other replica leads position {_group.Self.Position} now");
        var node = _group.NodeOf(leader.EndPoint);
        var call = new HandOffWritesRequest();
        foreach (var write in writes)
        {
            write.Span?.SetTag("kvaspire.leader", node.Name);
            write.Span?.SetTag("kvaspire.handed_writes", writes.Length);
            call.Writes.Add(OperationMessages.ToHandedWrite(write.Request.Operation, write.Request.HopsSoFar,
                NodeTelemetry.TraceParent(write.Span?.Context ?? write.Request.TraceContext)));
        }
        IReadOnlyList<HandedWriteResult> results;
        // The call carries writes of many traces and belongs to none: each write's hand-off span stands for it.
        using (SuppressInstrumentationScope.Begin())
            results = await _peers.HandOffWritesAsync(node, call, _clock.GetUtcNow().UtcDateTime + _options.LeaderHandOffTimeout);
        for (var i = 0; i < writes.Length; i++)
        {
            var result = results[i];
            var status = (StatusCode)result.Status;
            if (status == StatusCode.OK)
                writes[i].Answer = new Answer(OperationMessages.ToResult(result), 0, node.GrpcEndPoint);
            else if (PeerStatus.AsResult(status, result.Detail) is { } answered)
                writes[i].Answer = new Answer(answered, 0, node.GrpcEndPoint);
            else
                writes[i].Failure = PeerStatus.AsFailure(status, result.Detail);
        }
    }
}
