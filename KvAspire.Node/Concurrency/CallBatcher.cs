using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Concurrency;

/// <summary>
/// Makes one call at a time for items that arrive one by one, in arrival order: the items that arrive
/// while a call is under way wait together for the next, up to <c>maxItems</c> items and <c>maxBytes</c>
/// bytes (a larger item goes alone). So under load one call serves many items, and a lone item goes at
/// once. Used for the leader's Raft entries, a follower's hand-offs of writes to its leader, and its
/// read-index calls to it.
/// </summary>
public sealed class CallBatcher<TItem>(int maxItems, int maxBytes, Func<TItem[], Task> call)
{
    private readonly Lock _lock = new();
    private readonly List<Batch> _waiting = [];
    private bool _calling;

    /// <summary>Items that go in one call, and its outcome.</summary>
    private sealed class Batch
    {
        public List<TItem> Items { get; } = [];

        public int Bytes { get; set; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Completes as the call that carries <paramref name="item"/> does: with it, or with its exception.</summary>
    public Task AddAsync(TItem item, int bytes)
    {
        Batch batch;
        var start = false;
        lock (_lock)
        {
            batch = _waiting.Count > 0 ? _waiting[^1] : new Batch();
            if (batch.Items.Count >= maxItems || (batch.Items.Count > 0 && batch.Bytes + bytes > maxBytes))
                batch = new Batch();
            if (batch.Items.Count == 0)
                _waiting.Add(batch);
            batch.Items.Add(item);
            batch.Bytes += bytes;
            if (!_calling)
                _calling = start = true;
        }
        if (start)
            _ = CallWhileItemsWaitAsync();
        return batch.Done.Task;
    }

    private async Task CallWhileItemsWaitAsync()
    {
        NodeTelemetry.LeaveRequestTrace();
        while (true)
        {
            Batch next;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _calling = false;
                    return;
                }
                next = _waiting[0];
                _waiting.RemoveAt(0);
            }
            try
            {
                await call(next.Items.ToArray());
                next.Done.TrySetResult();
            }
            catch (Exception e)
            {
                next.Done.TrySetException(e);
                _ = next.Done.Task.Exception; // observed here: every caller waiting on it may have given up
            }
        }
    }
}
