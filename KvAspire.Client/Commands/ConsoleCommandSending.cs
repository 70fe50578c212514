using System.Text;
using KvAspire.Driver;
using KvAspire.Operations;

namespace KvAspire.Client.Commands;

/// <summary>Sends a console command through the client library, its outcome (the cluster's refusals included) as an answer.</summary>
public static class ConsoleCommandSending
{
    public static async Task<ConsoleAnswer> ExecuteAsync(this IKvClient client, ConsoleCommand command, CancellationToken cancellationToken = default)
    {
        try
        {
            if (command.Kind == OperationKind.Read)
            {
                var entry = await client.ReadAsync(command.Key, cancellationToken);
                return new ConsoleAnswer(Grpc.Core.StatusCode.OK, null, entry.Text, entry.Version, entry.CommittedAt, entry.Hops, entry.Node, entry.Revisions.Modify);
            }
            var value = command.Value is null ? default : Encoding.UTF8.GetBytes(command.Value);
            var written = command.Kind switch
            {
                OperationKind.Create => await client.CreateAsync(command.Key, value, command.Lease, cancellationToken),
                OperationKind.Update => await client.UpdateAsync(command.Key, value, command.ExpectedVersion, cancellationToken),
                _ => await client.DeleteAsync(command.Key, command.ExpectedVersion, cancellationToken),
            };
            return new ConsoleAnswer(Grpc.Core.StatusCode.OK, null, null, written.Version, written.CommittedAt, written.Hops, written.Node, written.Revisions.Modify);
        }
        catch (KvException refused)
        {
            return new ConsoleAnswer(refused.Status, refused.Message, Node: refused.Node);
        }
    }
}
