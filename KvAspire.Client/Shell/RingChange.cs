using System.Diagnostics;
using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Client.Shell;

/// <summary>
/// The commands that change the ring, <c>ring move &lt;position&gt; &lt;ring-id&gt;</c>, <c>ring add-position
/// &lt;position&gt; [ring-id]</c> and <c>ring remove-position &lt;position&gt;</c>: asks a node (the first of the
/// nodes given that answers) to run the move (the Admin service's <c>MoveBoundary</c>, <c>AddPosition</c>,
/// <c>RemovePosition</c>), and prints each step and the copy's progress (keys and bytes moved, of the
/// total) to standard error as the giver's leader takes them. A move the giver has fenced for goes on by
/// itself when the node asked, or a leader, fails; the console then follows it through the other nodes
/// (<c>FollowMove</c>) to its end. Sends the cluster secret from the environment when it is set.
/// </summary>
public sealed class RingChange(IReadOnlyList<string> nodes, AdminAccess access, ReplyPrinter printer)
{
    /// <summary>A move copies its range whole: as long as that takes, with each step's own limits inside.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromMinutes(30);

    public Task<int> MoveAsync(int position, ulong ringId) =>
        RunAsync("ring move", (admin, headers, deadline) => admin.MoveBoundary(new MoveBoundaryRequest { Position = position, RingId = ringId }, headers, deadline));

    public Task<int> AddAsync(int position, ulong? ringId) =>
        RunAsync("ring add-position", (admin, headers, deadline) =>
            admin.AddPosition(new AddPositionRequest { Position = position, RingId = ringId ?? 0, HasRingId = ringId.HasValue }, headers, deadline));

    public Task<int> RemoveAsync(int position) =>
        RunAsync("ring remove-position", (admin, headers, deadline) => admin.RemovePosition(new RemovePositionRequest { Position = position }, headers, deadline));

    private async Task<int> RunAsync(string command, Func<Admin.AdminClient, Metadata, DateTime, AsyncServerStreamingCall<MoveProgress>> start)
    {
        var elapsed = Stopwatch.StartNew();
        var refusals = new List<string>();
        foreach (var node in nodes)
        {
            MoveProgress? last = null;
            try
            {
                last = await StreamAsync(node, start);
            }
            catch (MoveStreamException e) when (e.Last is null && TransportFailure.IsUnreachable(e.Failure))
            {
                refusals.Add($"{node}: {e.Failure.Status.Detail}");
                continue;
            }
            catch (MoveStreamException e) when (e.Last is { Step: not ("plan" or "waiting") } at && e.Failure.StatusCode is not StatusCode.FailedPrecondition
                                                     and not StatusCode.InvalidArgument and not StatusCode.PermissionDenied)
            {
                printer.PrintProgress($"follow: {node} failed during {at.Step} ({e.Failure.StatusCode}: {e.Failure.Status.Detail}); following the move through the other nodes");
                return await FollowAsync(command, node, at, elapsed);
            }
            catch (MoveStreamException stream)
            {
                var (e, step) = (stream.Failure, stream.Last?.Step);
                var asWas = step is "plan" or "waiting" || e.StatusCode == StatusCode.FailedPrecondition && step == "fence";
                printer.PrintError($"{node}: {e.StatusCode}: {e.Status.Detail}{(asWas ? " (the ring is as it was)" : "")}");
                return e.StatusCode switch
                {
                    StatusCode.InvalidArgument or StatusCode.PermissionDenied => ExitCodes.InvalidInput,
                    StatusCode.Unavailable or StatusCode.DeadlineExceeded => ExitCodes.Unavailable,
                    _ => ExitCodes.OperationFailed,
                };
            }
            if (last is not { Step: "done" })
            {
                printer.PrintProgress($"follow: {node} ended the move at step '{last?.Step ?? "none"}' without finishing it; following it through the other nodes");
                return last is null ? ExitCodes.Unavailable : await FollowAsync(command, node, last, elapsed);
            }
            return Done(command, last, elapsed, node);
        }
        printer.PrintError($"no node answered: {string.Join("; ", refusals)}");
        return ExitCodes.Unavailable;
    }

    /// <summary>The move <paramref name="at"/> names, followed through each node but <paramref name="failed"/> in turn until one streams it to its end.</summary>
    private async Task<int> FollowAsync(string command, string failed, MoveProgress at, Stopwatch elapsed)
    {
        var failures = new List<string>();
        foreach (var node in nodes.Where(n => n != failed))
        {
            try
            {
                var last = await StreamAsync(node, (admin, headers, deadline) =>
                    admin.FollowMove(new FollowMoveRequest { Giver = at.Giver, Epoch = at.Epoch }, headers, deadline));
                if (last is { Step: "done" })
                    return Done(command, last, elapsed, node);
                failures.Add($"{node} ended at step '{last?.Step ?? "none"}'");
            }
            catch (MoveStreamException e) when (e.Failure.StatusCode == StatusCode.FailedPrecondition)
            {
                printer.PrintError($"{node}: {e.Failure.Status.Detail} (the ring is as it was)");
                return ExitCodes.OperationFailed;
            }
            catch (MoveStreamException e)
            {
                failures.Add($"{node}: {e.Failure.StatusCode}: {e.Failure.Status.Detail}");
            }
        }
        printer.PrintError($"no node followed the move to epoch {at.Epoch} to its end ({string.Join("; ", failures)}); the giver's leader takes it on by itself: " +
                           $"`ring` shows epoch {at.Epoch} once it is done");
        return ExitCodes.Unavailable;
    }

    /// <summary>Prints each step <paramref name="node"/> streams; the last one, if any.</summary>
    /// <exception cref="MoveStreamException">The stream failed (with the last step it had streamed).</exception>
    private async Task<MoveProgress?> StreamAsync(string node, Func<Admin.AdminClient, Metadata, DateTime, AsyncServerStreamingCall<MoveProgress>> start)
    {
        using var channel = access.Channel(node);
        MoveProgress? last = null;
        try
        {
            using var call = start(new Admin.AdminClient(channel), access.Headers, DateTime.UtcNow + CallTimeout);
            await foreach (var progress in call.ResponseStream.ReadAllAsync())
            {
                last = progress;
                printer.PrintProgress(progress.Step == "copied"
                    ? $"copy: {progress.KeysMoved} of {progress.KeysTotal} keys, {progress.BytesMoved} of {progress.BytesTotal} bytes ({progress.Detail})"
                    : $"{progress.Step}: {progress.Detail}");
            }
            return last;
        }
        catch (RpcException e)
        {
            throw new MoveStreamException(e, last);
        }
    }

    private int Done(string command, MoveProgress last, Stopwatch elapsed, string node)
    {
        printer.PrintResult($"{last.Detail}; position {last.Giver} gave {last.KeysMoved} keys ({last.BytesMoved} bytes) to position {last.Taker} " +
                            $"in {elapsed.Elapsed.TotalSeconds:F1} s, by {node}",
            new { command, epoch = last.Epoch, giver = last.Giver, taker = last.Taker, keys = last.KeysMoved, bytes = last.BytesMoved,
                seconds = elapsed.Elapsed.TotalSeconds, node });
        return ExitCodes.Success;
    }

    /// <summary>A move's stream failed after <see cref="Last"/> (null: before any step).</summary>
    private sealed class MoveStreamException(RpcException failure, MoveProgress? last) : Exception(failure.Message, failure)
    {
        public RpcException Failure { get; } = failure;

        public MoveProgress? Last { get; } = last;
    }
}
