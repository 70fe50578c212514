using DotNext.Threading;
using KvAspire.Node.Configuration;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// F2: the durable copy of the Raft log. Raft's own log is kept in memory; every entry it appends comes
/// here (<see cref="Submit"/>, in append order) and is written to <c>log.X</c> by this worker: whatever
/// arrived while the previous sync ran goes out as one batch with one fsync (group commit). An entry counts
/// only once synced here: a follower acknowledges an append after <see cref="WaitDurableAsync"/>, and the
/// leader commits an index only after it, while it sends the entry to its followers meanwhile. Commit
/// records ride along with the next batch. At snapshot X, <c>log.X</c> is started with the entries after the
/// snapshot's last index, so <c>snap.X</c> and the logs from <c>log.X</c> on hold the whole Raft log.
/// A log that cannot be written stops the node: nothing waiting, nor anything later, counts.
/// </summary>
public sealed class LogWorker(
    NodeOptions options,
    RecoveredState recovered,
    FailStop failStop,
    NodeTelemetry telemetry,
    ILogger<LogWorker> logger) : BackgroundService
{
    private readonly System.Threading.Lock _lock = new();
    private readonly AsyncAutoResetEvent _work = new(initialState: false);
    private readonly SortedDictionary<long, RaftEntry> _pending = [];
    // Entries written and not yet applied to the map: what a new log copies at a snapshot.
    private readonly List<RaftEntry> _unapplied = [.. recovered.Entries];
    private readonly List<(long Index, TaskCompletionSource Done)> _waiting = [];
    private readonly Queue<(long Number, long After, TaskCompletionSource Started)> _rotations = new();
    private OperationLog _log = recovered.Log;
    private long _nextIndex = recovered.LastIndex + 1;
    private long _durableIndex = recovered.LastIndex;
    private long _cutFrom = long.MaxValue;
    private long _committed = recovered.CommitIndex;
    private long _commitWritten = recovered.CommitIndex;
    private long _applied = recovered.Map.AppliedIndex;
    private Exception? _failure;
    private long _length = recovered.Log.Length;
    private int _waitingEntries;

    /// <summary>Bytes in the current log, written since the last snapshot started.</summary>
    public long Length => Volatile.Read(ref _length);

    /// <summary>Entries appended and not yet written.</summary>
    public int Waiting => Volatile.Read(ref _waitingEntries);

    /// <summary>
    /// Raft's log now holds <paramref name="entries"/> from <paramref name="startIndex"/> on, and nothing
    /// after them: they replace any entry at or after that index not yet synced, and records written later
    /// replace those already in the log. Called in the order Raft appends.
    /// </summary>
    public void Submit(long startIndex, IReadOnlyList<RaftEntry> entries)
    {
        lock (_lock)
        {
            if (_failure is not null)
                throw _failure;
            foreach (var stale in _pending.Keys.Where(index => index >= startIndex).ToList())
                _pending.Remove(stale);
            if (startIndex < _nextIndex)
            {
                _nextIndex = startIndex;
                _durableIndex = Math.Min(_durableIndex, startIndex - 1);
                _unapplied.RemoveAll(entry => entry.Index >= startIndex);
                _cutFrom = Math.Min(_cutFrom, startIndex);
            }
            foreach (var entry in entries)
                _pending[entry.Index] = entry;
        }
        _work.Set();
    }

    /// <summary>Completes once every entry up to <paramref name="index"/> is on disk as Raft now has it.</summary>
    public Task WaitDurableAsync(long index, CancellationToken token)
    {
        lock (_lock)
        {
            if (_failure is not null)
                return Task.FromException(_failure);
            if (index <= _durableIndex)
                return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Add((index, done));
            return done.Task.WaitAsync(token);
        }
    }

    /// <summary>Raft committed up to <paramref name="index"/>: said in the log with the next batch.</summary>
    public void Committed(long index)
    {
        lock (_lock)
            _committed = Math.Max(_committed, index);
    }

    /// <summary>
    /// The map applied writes up to <paramref name="index"/>: entries up to there need not be copied to a
    /// later log (a snapshot after this point holds them).
    /// </summary>
    public void Applied(long index) => Volatile.Write(ref _applied, index);

    /// <summary>
    /// Starts <c>log.X</c> for snapshot X, whose last index is <paramref name="after"/>, with the entries
    /// after it; completes once the new log is durable and new entries go to it.
    /// </summary>
    public Task RotateAsync(long number, long after)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_failure is not null)
                return Task.FromException(_failure);
            _rotations.Enqueue((number, after, started));
        }
        _work.Set();
        return started.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        telemetry.ObserveQueueDepth("F2", () => Waiting);
        telemetry.Meter.CreateObservableGauge("kvaspire.log.size", () => Length, "By", "Bytes in the current log, written since the last snapshot started");
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await _work.WaitAsync(stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                WriteBatch();
            }
            // What Raft appended before it stopped is written too, then nothing more is taken.
            WriteBatch();
            Fail(new OperationCanceledException("the node is stopping"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            NodeLog.LogWriteFailed(logger, e);
            Fail(new IOException("the node cannot write its Raft log", e));
            failStop.Stop();
        }
        finally
        {
            _log.Dispose();
        }
    }

    private void WriteBatch()
    {
        var keepAfter = Volatile.Read(ref _applied);
        List<RaftEntry> batch = [];
        List<RaftEntry>? copied = null;
        (long Number, long After, TaskCompletionSource Started)? rotation = null;
        long? commit;
        lock (_lock)
        {
            if (_rotations.TryDequeue(out var next))
            {
                rotation = next;
                _unapplied.RemoveAll(entry => entry.Index <= next.After);
                copied = [.. _unapplied];
                if (next.After >= _nextIndex)
                {
                    // A snapshot from the leader past everything here: the log goes on after it.
                    foreach (var covered in _pending.Keys.Where(index => index <= next.After).ToList())
                        _pending.Remove(covered);
                    _nextIndex = next.After + 1;
                    _durableIndex = Math.Max(_durableIndex, next.After);
                }
            }
            while (batch.Count < options.LogBatchRecords && _pending.Remove(_nextIndex, out var entry))
            {
                batch.Add(entry);
                _nextIndex++;
            }
            var last = _nextIndex - 1;
            commit = _committed > _commitWritten && (batch.Count > 0 || rotation is not null) ? Math.Min(_committed, last) : null;
            _cutFrom = long.MaxValue;
        }

        if (rotation is { } started)
        {
            var next = OperationLog.Open(recovered.DataDirectory, started.Number, 0);
            next.Append(copied!, commit);
            _log.Dispose();
            _log = next;
        }
        if (batch.Count > 0)
            _log.Append(batch, rotation is null ? commit : null);
        Volatile.Write(ref _length, _log.Length);

        lock (_lock)
        {
            if (commit is { } written)
                _commitWritten = Math.Max(_commitWritten, written);
            // Entries of the batch that Raft cut meanwhile are replaced by records written next: they do not count.
            var valid = batch.Count > 0 ? Math.Min(batch[^1].Index, _cutFrom - 1) : 0;
            foreach (var entry in batch)
            {
                if (entry.Index <= valid)
                    _unapplied.Add(entry);
            }
            _unapplied.RemoveAll(entry => entry.Index <= keepAfter);
            _durableIndex = Math.Max(_durableIndex, valid);
            _waiting.RemoveAll(waiter =>
            {
                if (waiter.Index > _durableIndex)
                    return false;
                waiter.Done.TrySetResult();
                return true;
            });
            if (_pending.ContainsKey(_nextIndex) || _rotations.Count > 0)
                _work.Set();
            Volatile.Write(ref _waitingEntries, _pending.Count);
        }
        rotation?.Started.TrySetResult();
    }

    private void Fail(Exception failure)
    {
        lock (_lock)
        {
            _failure ??= failure;
            foreach (var (_, done) in _waiting)
                done.TrySetException(_failure);
            _waiting.Clear();
            while (_rotations.TryDequeue(out var rotation))
                rotation.Started.TrySetException(_failure);
        }
    }
}
