using System.Diagnostics;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using KvAspire.Operations;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// One request as the node carries it from its handler to its answer: the operation, the trace it
/// belongs to, how many servers forwarded it here, where its key lives, and, for a write of this
/// position, its place in the committed order once Raft gives it one. <see cref="Result"/> is the map's
/// answer: only the apply worker completes it (what it reads was synced before it committed), and
/// only the replication path awaits it.
/// </summary>
public sealed class PendingRequest(KvOperation operation, ActivityContext traceContext, int hopsSoFar = 0, bool handedToLeader = false) : PipelineItem
{
    private readonly TaskCompletionSource<OperationResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public KvOperation Operation { get; } = operation;

    public ActivityContext TraceContext { get; } = traceContext;

    /// <summary>Server-to-server forwards before this node: 0 when a client sent it here.</summary>
    public int HopsSoFar { get; } = hopsSoFar;

    /// <summary>A follower of this position sent it here as to the leader: it is not handed on again.</summary>
    public bool HandedToLeader { get; } = handedToLeader;

    /// <summary>The key's identifier and the position that owns it.</summary>
    public (ulong KeyId, int Owner) Route { get; init; }

    /// <summary>Set once a write is committed: the entry that carries it (Raft index, term, commit timestamp).</summary>
    public CommittedEntry? Entry { get; set; }

    public Task<OperationResult> Result => _completion.Task;

    public void Complete(OperationResult result) => _completion.TrySetResult(result);

    public void Fail(Exception exception) => _completion.TrySetException(exception);

    /// <summary>A span for one stage of this request's path that a pipeline worker runs, under the request's own span.</summary>
    public StageSpan StartStage(string stage) => NodeTelemetry.StartStage(stage, Operation.Kind, TraceContext, Entry?.Index);
}
