using KvAspire.Driver;

namespace KvAspire.Client.Shell;

/// <summary>
/// <c>list [prefix]</c>: every key under the prefix in key order, a line each (or a JSON object each), then
/// how many and the revision each position was read at.
/// </summary>
public sealed class KeyListing(IKvClient client, ReplyPrinter printer)
{
    public async Task<int> RunAsync(string prefix)
    {
        var count = 0;
        var readAt = new SortedDictionary<int, long>();
        try
        {
            await foreach (var item in client.ListAsync(prefix))
            {
                count++;
                readAt[item.Position] = Math.Max(readAt.GetValueOrDefault(item.Position), item.Revisions.Position);
                printer.PrintResult($"{item.Key} = {item.Text} (version {item.Version}, revision {item.Revisions.Modify}, position {item.Position})",
                    new { item.Key, Value = item.Text, item.Version, CreateRevision = item.Revisions.Create, ModRevision = item.Revisions.Modify, item.Position });
            }
        }
        catch (KvException refused)
        {
            printer.PrintError($"{refused.Status}: {refused.Message}");
            return refused is KvUnavailableException ? ExitCodes.Unavailable : ExitCodes.OperationFailed;
        }
        printer.PrintResult(
            $"{count} key{(count == 1 ? "" : "s")}{(readAt.Count == 0 ? "" : $"; positions read at revisions {string.Join(", ", readAt.Select(p => $"{p.Key}:{p.Value}"))}")}",
            null);
        return ExitCodes.Success;
    }
}
