using KvAspire.Client.Commands;
using KvAspire.Driver;

namespace KvAspire.Client.Shell;

/// <summary>
/// <c>txn</c>: one call; prints which branch ran, at which revision, and each operation's outcome. A transaction
/// whose conditions did not hold succeeded too (its else branch ran): the exit code is 0 either way, as etcdctl's.
/// </summary>
public sealed class TransactionCommand(IKvClient client, ReplyPrinter printer)
{
    public async Task<int> RunAsync(ParsedInput.Txn command)
    {
        try
        {
            var result = await client.TxnAsync(command.Transaction);
            var branch = result.Succeeded ? "then" : "else";
            var lines = result.Results.Select(op => op.Version == 0
                ? $"  {op.Key}: {(op.Found ? "deleted" : "not found")}"
                : $"  {op.Key}: version {op.Version}, modRevision {op.Revisions.Modify}{(op.Value.IsEmpty ? "" : $", value \"{op.Text}\"")}{(op.Found ? "" : ", created")}");
            printer.PrintResult(string.Join('\n', lines.Prepend($"{branch} ran, at revision {result.Revision} ({result.Results.Count} operation{(result.Results.Count == 1 ? "" : "s")})")),
                new
                {
                    result.Succeeded, Branch = branch, result.Revision,
                    Results = result.Results.Select(op => new { op.Key, op.Found, op.Version, ModRevision = op.Revisions.Modify, Value = op.Text }),
                });
            return ExitCodes.Success;
        }
        catch (KvException refused)
        {
            printer.PrintError($"{refused.Status}: {refused.Message}");
            return ExitCodes.Of(refused.Status);
        }
    }
}
