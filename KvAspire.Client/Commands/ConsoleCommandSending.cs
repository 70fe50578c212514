using KvAspire.Driver.Transport;

namespace KvAspire.Client.Commands;

/// <summary>Sends a console command through the client library's connection.</summary>
public static class ConsoleCommandSending
{
    public static Task<Reply> ExecuteAsync(this KvConnection connection, ConsoleCommand command, CancellationToken cancellationToken = default) =>
        connection.ExecuteAsync(command.ToRequest(), cancellationToken);
}
