using System.Diagnostics;
using KvAspire.Node.Storage;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// One request on its way through the pipeline: the operation, the trace it belongs to, its place in
/// the node's order once the dispatcher gives it one (writes only), and the caller's pending answer.
/// </summary>
public sealed class Command(KvCommand operation, ActivityContext traceContext) : PipelineItem
{
    private readonly TaskCompletionSource<OperationResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public KvCommand Operation { get; } = operation;

    public ActivityContext TraceContext { get; } = traceContext;

    /// <summary>Set by the dispatcher for a write: its index and commit timestamp.</summary>
    public LogEntry? Entry { get; set; }

    public Task<OperationResult> Result => _completion.Task;

    public void Complete(OperationResult result) => _completion.TrySetResult(result);

    public void Fail(Exception exception) => _completion.TrySetException(exception);
}
