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
/// itself when the node asked, or a leader, fails. Sends the cluster secret from the environment when it is set.
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
            }
            catch (RpcException e) when (last is null && TransportFailure.IsUnreachable(e))
            {
                refusals.Add($"{node}: {e.Status.Detail}");
                continue;
            }
            catch (RpcException e)
            {
                var after = e.StatusCode switch
                {
                    _ when last is null => "",
                    _ when last.Step is "plan" or "waiting" => " (the ring is as it was)",
                    StatusCode.FailedPrecondition when last.Step == "fence" => " (the ring is as it was)",
                    StatusCode.FailedPrecondition => "",
                    _ when last.Step == "fence" => $" (during the fence; `ring` shows epoch {last.Epoch} if it was taken, and the move goes on without this node)",
                    _ => $" (during {last.Step}; the giver's leader takes the move on by itself: `ring` shows epoch {last.Epoch} once it is done)",
                };
                printer.PrintError($"{node}: {e.StatusCode}: {e.Status.Detail}{after}");
                return e.StatusCode switch
                {
                    StatusCode.InvalidArgument or StatusCode.PermissionDenied => ExitCodes.InvalidInput,
                    StatusCode.Unavailable or StatusCode.DeadlineExceeded => ExitCodes.Unavailable,
                    _ => ExitCodes.OperationFailed,
                };
            }
            if (last is not { Step: "done" })
            {
                printer.PrintError($"{node} ended the move at step '{last?.Step ?? "none"}' without finishing it; the giver's leader takes it on by itself");
                return ExitCodes.Unavailable;
            }
            printer.PrintResult($"{last.Detail}; position {last.Giver} gave {last.KeysMoved} keys ({last.BytesMoved} bytes) to position {last.Taker} " +
                                $"in {elapsed.Elapsed.TotalSeconds:F1} s, by {node}",
                new { command, epoch = last.Epoch, giver = last.Giver, taker = last.Taker, keys = last.KeysMoved, bytes = last.BytesMoved,
                    seconds = elapsed.Elapsed.TotalSeconds, node });
            return ExitCodes.Success;
        }
        printer.PrintError($"no node answered: {string.Join("; ", refusals)}");
        return ExitCodes.Unavailable;
    }
}
