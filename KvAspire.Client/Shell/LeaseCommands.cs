using KvAspire.Client.Commands;
using KvAspire.Driver;

namespace KvAspire.Client.Shell;

/// <summary>
/// <c>lease grant|keep-alive|revoke|show</c>: one call each. A lease granted here is not kept alive (the
/// console does not stay to renew it): its keys go once its TTL passes, unless renewed with keep-alive.
/// </summary>
public sealed class LeaseCommands(IKvClient client, ReplyPrinter printer)
{
    public async Task<int> RunAsync(ParsedInput.Lease command)
    {
        try
        {
            switch (command.Action)
            {
                case LeaseAction.Grant:
                    // Granted through the library, then let go without revoking: the lease lives its TTL.
                    var lease = await client.GrantLeaseAsync(command.Ttl, command.PlaceWith);
                    printer.PrintResult($"lease {lease.Id} (TTL {lease.Ttl.TotalSeconds:0.###} s, position {lease.Position}); not kept alive: " +
                                        $"create <key> <value> --lease {lease.Id}", new { Lease = lease.Id, TtlSeconds = lease.Ttl.TotalSeconds, lease.Position });
                    lease.Abandon();
                    break;
                case LeaseAction.KeepAlive:
                    var ttl = await client.KeepLeaseAliveAsync(command.Id);
                    printer.PrintResult($"lease {command.Id} renewed for {ttl.TotalSeconds:0.###} s", new { Lease = command.Id, TtlSeconds = ttl.TotalSeconds });
                    break;
                case LeaseAction.Revoke:
                    var revision = await client.RevokeLeaseAsync(command.Id);
                    printer.PrintResult($"lease {command.Id} revoked; its keys deleted at revision {revision}", new { Lease = command.Id, Revision = revision });
                    break;
                default:
                    var status = await client.LeaseTimeToLiveAsync(command.Id);
                    printer.PrintResult($"lease {status.Id}: TTL {status.Ttl.TotalSeconds:0.###} s, {status.Remaining.TotalSeconds:0.###} s left, " +
                                        $"{status.Keys.Count} key{(status.Keys.Count == 1 ? "" : "s")}{(status.Keys.Count == 0 ? "" : ": " + string.Join(", ", status.Keys))}",
                        new { Lease = status.Id, TtlSeconds = status.Ttl.TotalSeconds, RemainingSeconds = status.Remaining.TotalSeconds, status.Keys });
                    break;
            }
            return ExitCodes.Success;
        }
        catch (KvException refused)
        {
            printer.PrintError($"{refused.Status}: {refused.Message}");
            return refused is KvUnavailableException ? ExitCodes.Unavailable : ExitCodes.OperationFailed;
        }
    }
}
