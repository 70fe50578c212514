using KvAspire.Node.Storage;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// Owns the completion of every request executed on this node's map: it holds each answer until what the
/// answer depends on is on disk. F3 applies a write as soon as it is queued, but its caller hears back
/// only once F2 has synced the write's log record; a read waits for the last write it could have seen.
/// So no caller ever sees data that a crash could take back.
/// </summary>
public sealed class DurabilityGate(RecoveredState recovered)
{
    private readonly Lock _lock = new();
    private readonly Queue<(long Index, PendingRequest Request, OperationResult Result)> _waiting = new();
    private long _durableIndex = recovered.LastIndex;
    private Exception? _failure;

    /// <summary>Answers <paramref name="request"/> once every write up to <paramref name="index"/> is durable.</summary>
    public void Release(PendingRequest request, OperationResult result, long index)
    {
        lock (_lock)
        {
            if (_failure is not null)
                request.Fail(_failure);
            else if (index <= _durableIndex)
                request.Complete(result);
            else
                _waiting.Enqueue((index, request, result));
        }
    }

    /// <summary>Called by F2 after a sync: every write up to <paramref name="index"/> is on disk.</summary>
    public void MarkDurable(long index)
    {
        lock (_lock)
        {
            _durableIndex = Math.Max(_durableIndex, index);
            while (_waiting.TryPeek(out var head) && head.Index <= _durableIndex)
            {
                _waiting.Dequeue();
                head.Request.Complete(head.Result);
            }
        }
    }

    /// <summary>The log can no longer be written: nothing waiting, nor anything later, is acknowledged.</summary>
    public void Fail(Exception failure)
    {
        lock (_lock)
        {
            _failure = failure;
            while (_waiting.TryDequeue(out var waiting))
                waiting.Request.Fail(failure);
        }
    }
}
