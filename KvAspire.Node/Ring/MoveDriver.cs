using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Node.Consensus;
using KvAspire.Node.Errors;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using KvAspire.V1;

namespace KvAspire.Node.Ring;

/// <summary>
/// Drives the move this node's group is fenced for while the node leads the group. The fence carries the
/// plan into the group's log (<see cref="KvMap.Move"/>), so a move outlives the node that started it and
/// every leader of the giver: a new leader reads it at a linearizable point and takes it on from the first
/// step not done (<see cref="RangeMoves.DriveAsync"/>: every step idempotent), and a step that cannot be
/// taken now (its position down) is tried again until it can, or the node stops leading. Keeps the steps it
/// took, for the node that started the move to follow (<c>Replica.MoveStatus</c>).
/// </summary>
public sealed class MoveDriver(IRaftCluster raft, RaftGroup group, ApplyWorker applier, RangeMoves moves, TimeProvider clock, ILogger<MoveDriver> logger)
    : BackgroundService
{
    /// <summary>How often a node looks for a move to drive: how soon a new leader takes one on.</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>The pause before a step that failed is tried again.</summary>
    private static readonly TimeSpan RetryPause = TimeSpan.FromSeconds(1);

    /// <summary>How long a node following a move waits here for a step it has not seen.</summary>
    private static readonly TimeSpan FollowWait = TimeSpan.FromSeconds(1);

    /// <summary>The steps of one move as one leader drove it; a follower waits on <see cref="Changed"/> for the next.</summary>
    private sealed class Driven(long epoch, string driver)
    {
        private readonly List<MoveProgress> _steps = [];
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _finished;

        public long Epoch { get; } = epoch;

        public string Driver { get; } = driver;

        public bool Finished => _finished;

        public Task Changed
        {
            get
            {
                lock (_steps)
                    return _changed.Task;
            }
        }

        public int Count
        {
            get
            {
                lock (_steps)
                    return _steps.Count;
            }
        }

        public Task Add(MoveProgress step)
        {
            lock (_steps)
            {
                _steps.Add(step);
                _changed.SetResult();
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            return Task.CompletedTask;
        }

        /// <summary>The last step is in: the move ended here.</summary>
        public void Finish() => _finished = true;

        public MoveProgress[] From(int first)
        {
            lock (_steps)
                return [.. _steps.Skip(first)];
        }
    }

    private Driven? _driven;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var leadership = raft.LeadershipToken;
            if (!leadership.IsCancellationRequested && applier.Move is not null)
                await DriveAsync(leadership, stoppingToken);
            await Task.Delay(CheckInterval, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task DriveAsync(CancellationToken leadership, CancellationToken stoppingToken)
    {
        using var leading = CancellationTokenSource.CreateLinkedTokenSource(leadership, stoppingToken);
        try
        {
            // This node's map may lag behind what its group committed: the move as the group holds it.
            if (await moves.HeldMoveAsync(group.Self.Position, leading.Token) is not { } move)
                return;
            var driven = new Driven(move.After.Epoch, $"{group.Self.Name} (term {raft.Term})");
            Volatile.Write(ref _driven, driven);
            NodeLog.MoveDriven(logger, move.After.Epoch, move.Describe());
            while (true)
            {
                try
                {
                    await moves.DriveAsync(move, group.Self, driven.Add, leading.Token);
                    driven.Finish();
                    return;
                }
                catch (RequestFailedException e) when (!leading.IsCancellationRequested)
                {
                    NodeLog.MoveStalled(logger, move.After.Epoch, e.Message);
                    await driven.Add(RangeMoves.Progress(move, "stalled", $"{e.Message}; trying again"));
                    await Task.Delay(RetryPause, clock, leading.Token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or RequestFailedException && leading.IsCancellationRequested)
        {
            // No longer leads (the next leader takes the move on), or the node stops: its calls end cancelled.
        }
        catch (RequestFailedException e)
        {
            NodeLog.MoveStalled(logger, 0, e.Message); // the move could not be read: looked for again at the next check
        }
    }

    /// <summary>
    /// What a node following the move to <paramref name="request"/>'s epoch learns here, given the claim and
    /// the move the group holds at a linearizable point: the steps this node took (from the request's
    /// <c>from</c> when it names this driver; when there is none yet, the next, waited for a moment), or,
    /// when the move is over and this node did not drive it to its end, that it is finished and the claim
    /// it left.
    /// </summary>
    /// <exception cref="RequestFailedException">Unavailable: this node does not lead its group (its leader drives the move).</exception>
    public async Task<MoveStatusReply> StatusAsync(MoveStatusRequest request, OwnedRange claim, MovePlan? move, CancellationToken cancellationToken)
    {
        if (raft.LeadershipToken.IsCancellationRequested)
            throw RequestFailedException.Unavailable($"{group.Self.Name} does not lead position {group.Self.Position}, whose leader drives its moves");
        var reply = new MoveStatusReply { Claim = claim.ToMessage() };
        if (Volatile.Read(ref _driven) is not { } driven || driven.Epoch != request.Epoch)
        {
            reply.Finished = move?.After.Epoch != request.Epoch;
            return reply;
        }
        var from = request.Driver == driven.Driver ? request.From : 0;
        var changed = driven.Changed;
        if (!driven.Finished && driven.Count <= from)
            await Task.WhenAny(changed, Task.Delay(FollowWait, clock, cancellationToken));
        // Finished first: once it is, every step is in.
        (reply.Driver, reply.Finished) = (driven.Driver, driven.Finished);
        reply.Steps.AddRange(driven.From(from));
        return reply;
    }
}
