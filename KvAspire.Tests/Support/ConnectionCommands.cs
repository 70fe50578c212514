using System.Text;
using KvAspire.Client.Commands;
using KvAspire.Driver.Transport;
using KvAspire.Operations;

namespace KvAspire.Tests.Support;

/// <summary>
/// The console's commands sent on the library's raw connection, as the tests' own clients send them: each
/// answer with its status, hops and leader hint (the console itself goes through <c>IKvClient</c>).
/// </summary>
internal static class ConnectionCommands
{
    public static Task<Reply> ExecuteAsync(this KvConnection connection, ConsoleCommand command, CancellationToken cancellationToken = default) =>
        connection.ExecuteAsync(new KvOperation(command.Kind, command.Key, command.Value is null ? default : Encoding.UTF8.GetBytes(command.Value),
            command.ExpectedVersion), cancellationToken);
}
