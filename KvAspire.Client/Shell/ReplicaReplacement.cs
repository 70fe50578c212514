using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Cluster;
using KvAspire.V1;

namespace KvAspire.Client.Shell;

/// <summary>
/// The <c>replace-replica &lt;node&gt;</c> command: asks the leader of the node's position to replace the
/// member the node was by the node as it is now (started again on an empty data directory, waiting as a
/// new member). The other replicas are asked in turn until the leader answers; while there is none (an
/// election), again for a few seconds. Sends the cluster secret from the environment when it is set.
/// </summary>
public sealed class ReplicaReplacement(ClusterTopology topology, AdminAccess access, ReplyPrinter printer)
{
    public const string NeedsTopology = "replace-replica needs the topology file: --cluster <cluster.json>";

    /// <summary>Catching a replica up by snapshot takes as long as sending the whole map.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan LookForLeaderFor = TimeSpan.FromSeconds(10);

    public async Task<int> RunAsync(string name)
    {
        var target = topology.Nodes.FirstOrDefault(n => n.Name == name);
        if (target is null)
        {
            printer.PrintError($"no node named '{name}' in the topology; the nodes are {string.Join(", ", topology.Nodes.Select(n => n.Name))}");
            return ExitCodes.InvalidInput;
        }
        var headers = access.Headers;

        var others = topology.Nodes.Where(n => n.Position == target.Position && n != target).ToList();
        var until = DateTime.UtcNow + LookForLeaderFor;
        var refusals = new List<string>();
        while (true)
        {
            refusals.Clear();
            foreach (var node in others)
            {
                using var channel = access.Channel(node.GrpcUri);
                try
                {
                    var reply = await new Admin.AdminClient(channel).ReplaceReplicaAsync(new ReplaceReplicaRequest { Node = name },
                        headers, DateTime.UtcNow + CallTimeout);
                    printer.PrintResult(reply.Added.Length == 0
                        ? $"{name} is already a member of position {target.Position}{(reply.Removed.Count > 0 ? $"; removed {string.Join(", ", reply.Removed)}" : "")}"
                        : $"{name} replaced in position {target.Position}: removed {(reply.Removed.Count == 0 ? "nothing" : string.Join(", ", reply.Removed))}, " +
                          $"added {reply.Added} (caught up), by leader {node.Name}",
                        new { command = "replace-replica", node = name, position = target.Position, removed = reply.Removed, added = reply.Added, leader = node.Name });
                    return ExitCodes.Success;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                    refusals.Add($"{node.Name}: {e.Status.Detail}");
                }
                catch (RpcException e)
                {
                    printer.PrintError($"{node.Name}: {e.StatusCode}: {e.Status.Detail}");
                    return e.StatusCode is StatusCode.InvalidArgument or StatusCode.PermissionDenied ? ExitCodes.InvalidInput : ExitCodes.OperationFailed;
                }
            }
            if (DateTime.UtcNow >= until)
                break;
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
        printer.PrintError($"no leader of position {target.Position} replaced {name}: {string.Join("; ", refusals)}");
        return ExitCodes.Unavailable;
    }
}
