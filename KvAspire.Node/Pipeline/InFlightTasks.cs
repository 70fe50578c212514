namespace KvAspire.Node.Pipeline;

/// <summary>
/// Requests a worker has started without awaiting them (forwards, replicated requests), so that at
/// shutdown it can wait for every one under way before the queues behind it close.
/// </summary>
public sealed class InFlightTasks
{
    private readonly HashSet<Task> _tasks = [];

    public void Track(Task task)
    {
        lock (_tasks)
            _tasks.Add(task);
        _ = task.ContinueWith(done => { lock (_tasks) _tasks.Remove(done); }, TaskScheduler.Default);
    }

    public Task WhenAllAsync()
    {
        lock (_tasks)
            return Task.WhenAll([.. _tasks]);
    }
}
