using System.Collections.Concurrent;
using Grpc.Core;
using KvAspire.Client.Commands;
using KvAspire.Driver;
using KvAspire.Driver.Transport;
using KvAspire.Node.Configuration;
using KvAspire.Operations;

namespace KvAspire.Tests.Support;

/// <summary>A key as a client knows it: present with a value and version, or absent.</summary>
public readonly record struct KeyState(bool Exists, string? Value, long Version)
{
    public static readonly KeyState Absent = new(false, null, 0);

    public override string ToString() => Exists ? $"'{Value}' at version {Version}" : "absent";
}

/// <summary>
/// Concurrent clients creating, reading, updating and deleting keys through every node, each client the
/// only writer of its own keys, so that it knows what each key must hold: every answer is checked
/// against that. A write whose answer never came may or may not have happened; the key is left alone
/// until any late copy of the write has had time to land (a node gives up on a request after its request
/// timeout, a forward's next hop after another), then a read must show one of the two states, and the
/// client goes on from it.
/// Some updates are transactions on their key ("if at its version, put, else read"): the history records
/// one that succeeded as an update with that expected version, and one that did not as the read it made.
/// A lost write, a write applied twice (a version too far) or a stale read is a violation.
/// </summary>
public sealed class RegisterWorkload(IReadOnlyList<string> addresses, int clients, int keysPerClient, NodeOptions options, string? authority = null)
{
    private readonly TimeSpan _lateWriteWindow = 2 * options.RequestTimeout + TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly KeyRegister[][] _keys = Enumerable.Range(0, clients)
        .Select(c => Enumerable.Range(0, keysPerClient).Select(k => new KeyRegister($"rolling-{c}-{k}")).ToArray())
        .ToArray();

    private long _acknowledged;
    private long _reads;
    private long _unanswered;

    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    public ConcurrentQueue<string> Violations { get; } = new();

    /// <summary>Every operation with its call and return time and its answer, for the linearizability checker.</summary>
    public ConcurrentQueue<HistoryOperation> History { get; } = new();

    /// <summary>Now, on the clock of <see cref="History"/>'s call and return times.</summary>
    public long Now => _clock.ElapsedTicks;

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public long Reads => Interlocked.Read(ref _reads);

    public long Unanswered => Interlocked.Read(ref _unanswered);

    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientAsync(c, stop))));

    /// <summary>After the run: every key, read through every node, is what its client last knew.</summary>
    public async Task VerifyAsync()
    {
        var latest = _keys.SelectMany(k => k).Select(k => k.QuietUntil).Max();
        if (latest > DateTime.UtcNow)
            await Task.Delay(latest - DateTime.UtcNow);
        for (var start = 0; start < addresses.Count; start++)
        {
            using var connection = Connect([addresses[start]]);
            foreach (var key in _keys.SelectMany(k => k))
            {
                var reply = await ExecuteAsync(connection, new ConsoleCommand(OperationKind.Read, key.Name));
                if (Observed(reply) is not { } seen)
                    Violations.Enqueue($"final read of {key.Name} through {addresses[start]} failed: {reply.Status} {reply.Error}");
                else if (!key.Possible.Contains(seen))
                    Violations.Enqueue($"final read of {key.Name} through {addresses[start]} returned {seen}; expected {string.Join(" or ", key.Possible)}");
                else
                    key.Possible = [seen];
            }
        }
    }

    /// <summary>A connection to <paramref name="nodes"/>, over TLS when the cluster's CA is given.</summary>
    private KvConnection Connect(IReadOnlyList<string> nodes) => new(nodes, new KvClientOptions { RequestTimeout = RequestTimeout, Authority = authority });

    private async Task ClientAsync(int client, CancellationToken stop)
    {
        // Each client starts at a different node, so requests enter everywhere and many are forwarded.
        using var connection = Connect([.. addresses.Skip(client % addresses.Count), .. addresses.Take(client % addresses.Count)]);
        var random = new Random(client);
        var keys = _keys[client];
        var written = 0;
        while (!stop.IsCancellationRequested)
        {
            var now = DateTime.UtcNow;
            var ready = keys.Where(k => k.QuietUntil <= now).ToArray();
            if (ready.Length == 0)
            {
                // Every key of this client is in its late-write window: resume when the first one ends.
                await Task.Delay(keys.Min(k => k.QuietUntil) - now, CancellationToken.None);
                continue;
            }
            var key = ready[random.Next(ready.Length)];
            if (key.Possible.Count > 1)
            {
                await ResolveAsync(connection, key);
                continue;
            }

            var state = key.Possible[0];
            var value = $"{client}.{written++}";
            var draw = random.NextDouble();
            if (state.Exists && draw is >= 0.60 and < 0.75)
            {
                await SwapAsync(connection, key, state, value);
                continue;
            }
            var (command, next) = state.Exists
                ? draw switch
                {
                    < 0.40 => (new ConsoleCommand(OperationKind.Read, key.Name), state),
                    < 0.75 => (new ConsoleCommand(OperationKind.Update, key.Name, value, state.Version), new KeyState(true, value, state.Version + 1)),
                    < 0.90 => (new ConsoleCommand(OperationKind.Update, key.Name, value), new KeyState(true, value, state.Version + 1)),
                    _ => (new ConsoleCommand(OperationKind.Delete, key.Name, null, state.Version), KeyState.Absent),
                }
                : (new ConsoleCommand(OperationKind.Create, key.Name, value), new KeyState(true, value, 1));
            var reply = await ExecuteAsync(connection, command);
            Judge(key, command, reply, state, next);
        }
    }

    private void Judge(KeyRegister key, ConsoleCommand command, Reply reply, KeyState before, KeyState after)
    {
        if (reply.Status is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled)
        {
            Interlocked.Increment(ref _unanswered);
            if (command.Kind != OperationKind.Read)
            {
                key.Possible = [before, after];
                key.QuietUntil = DateTime.UtcNow + _lateWriteWindow;
            }
            return;
        }

        if (command.Kind == OperationKind.Read)
        {
            Interlocked.Increment(ref _reads);
            if (Observed(reply) != before)
                Violations.Enqueue($"read {key.Name} returned {Describe(reply)}; the last acknowledged write left it {before}");
            return;
        }

        var expected = after.Exists ? after.Version : before.Version;
        if (!reply.IsOk || reply.Version != expected)
        {
            Violations.Enqueue($"{command.Label} on {before}: {Describe(reply)}, expected ok at version {expected}");
            return;
        }
        Interlocked.Increment(ref _acknowledged);
        key.Possible = [after];
    }

    /// <summary>A transaction on one key: if it is at the version its client knows, put <paramref name="value"/>; else read it.</summary>
    private async Task SwapAsync(KvConnection connection, KeyRegister key, KeyState before, string value)
    {
        var txn = new Transaction([new TransactionCompare(key.Name, CompareTarget.Version, CompareResult.Equal, before.Version)],
            [new TransactionOp(TransactionOpKind.Put, key.Name, System.Text.Encoding.UTF8.GetBytes(value))],
            [new TransactionOp(TransactionOpKind.Read, key.Name)]);
        var call = _clock.ElapsedTicks;
        var reply = await connection.ExecuteAsync(new KvOperation(OperationKind.Txn, key.Name, Txn: txn), CancellationToken.None);
        var returned = _clock.ElapsedTicks;
        var after = new KeyState(true, value, before.Version + 1);
        if (reply.Result.Txn is not { } outcome)
        {
            History.Enqueue(new HistoryOperation(key.Name, HistoryKind.Update, value, before.Version, call, long.MaxValue, HistoryOutcome.Unknown));
            Judge(key, new ConsoleCommand(OperationKind.Update, key.Name, value, before.Version), reply, before, after);
            return;
        }
        var result = outcome.Results.Single();
        if (outcome.Succeeded)
        {
            History.Enqueue(new HistoryOperation(key.Name, HistoryKind.Update, value, before.Version, call, returned, HistoryOutcome.Ok,
                SeenVersion: result.Version, ModRevision: result.ModRevision, Revision: reply.Result.Revision, Leader: reply.Leader));
            Judge(key, new ConsoleCommand(OperationKind.Update, key.Name, value, before.Version),
                reply with { Result = reply.Result with { Version = result.Version } }, before, after);
            return;
        }
        var seen = result.Found ? new KeyState(true, System.Text.Encoding.UTF8.GetString(result.Value.Span), result.Version) : KeyState.Absent;
        History.Enqueue(new HistoryOperation(key.Name, HistoryKind.Read, null, null, call, returned, result.Found ? HistoryOutcome.Ok : HistoryOutcome.NotFound,
            seen.Value, seen.Version, result.ModRevision, reply.Result.Revision, reply.Leader));
        Violations.Enqueue($"transaction on {key.Name} at {before} found it {seen}: its client is its only writer");
    }

    private async Task ResolveAsync(KvConnection connection, KeyRegister key)
    {
        var reply = await ExecuteAsync(connection, new ConsoleCommand(OperationKind.Read, key.Name));
        if (Observed(reply) is not { } seen)
            return;
        Interlocked.Increment(ref _reads);
        if (key.Possible.Contains(seen))
            key.Possible = [seen];
        else
            Violations.Enqueue($"read {key.Name} after an unanswered write returned {seen}; expected {string.Join(" or ", key.Possible)}");
    }

    /// <summary>Sends <paramref name="command"/> and records it in <see cref="History"/>.</summary>
    private async Task<Reply> ExecuteAsync(KvConnection connection, ConsoleCommand command)
    {
        var call = _clock.ElapsedTicks;
        var reply = await connection.ExecuteAsync(command, CancellationToken.None);
        var outcome = reply.Status switch
        {
            StatusCode.OK => HistoryOutcome.Ok,
            StatusCode.NotFound => HistoryOutcome.NotFound,
            StatusCode.AlreadyExists => HistoryOutcome.AlreadyExists,
            StatusCode.FailedPrecondition => HistoryOutcome.VersionMismatch,
            _ => HistoryOutcome.Unknown,
        };
        var kind = command.Kind switch
        {
            OperationKind.Create => HistoryKind.Create,
            OperationKind.Read => HistoryKind.Read,
            OperationKind.Update => HistoryKind.Update,
            _ => HistoryKind.Delete,
        };
        History.Enqueue(new HistoryOperation(command.Key, kind, command.Value, command.ExpectedVersion, call,
            outcome == HistoryOutcome.Unknown ? long.MaxValue : _clock.ElapsedTicks, outcome,
            reply.IsOk && kind == HistoryKind.Read ? reply.Text : null, reply.IsOk ? reply.Version : 0, reply.Result.ModRevision, reply.Result.Revision, reply.Leader));
        return reply;
    }

    private static KeyState? Observed(Reply reply) => reply.Status switch
    {
        StatusCode.OK => new KeyState(true, reply.Text, reply.Version),
        StatusCode.NotFound => KeyState.Absent,
        _ => null,
    };

    private static string Describe(Reply reply) =>
        Observed(reply)?.ToString() ?? $"{reply.Status} ({reply.Error})";

    private sealed class KeyRegister(string name)
    {
        public string Name { get; } = name;

        /// <summary>One state when known; two after a write whose answer never came.</summary>
        public List<KeyState> Possible { get; set; } = [KeyState.Absent];

        public DateTime QuietUntil { get; set; }
    }
}
