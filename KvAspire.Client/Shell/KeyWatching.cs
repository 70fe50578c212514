using KvAspire.Driver;

namespace KvAspire.Client.Shell;

/// <summary>
/// <c>watch &lt;key&gt;</c> and <c>watch --prefix [prefix]</c>: every change from now on, a line each (or a
/// JSON object each), until Ctrl+C ends it (exit 0). Where each position's watch starts is shown first, so
/// that a later watch can go on from the revisions printed.
/// </summary>
public sealed class KeyWatching(IKvClient client, ReplyPrinter printer)
{
    public async Task<int> RunAsync(string key, bool prefix, CancellationToken stop)
    {
        var what = prefix ? (key.Length == 0 ? "every key" : $"the keys under '{key}'") : $"'{key}'";
        printer.PrintResult($"watching {what}; Ctrl+C ends", null);
        var started = new HashSet<int>();
        try
        {
            await foreach (var change in client.WatchAsync(key, new KvWatchOptions { Prefix = prefix, ProgressNotices = true }, stop))
            {
                if (change.Kind == KvEventKind.Progress)
                {
                    if (started.Add(change.Position))
                        printer.PrintResult($"position {change.Position}: from revision {change.Revision}", null);
                    continue;
                }
                var text = change.Kind == KvEventKind.Put
                    ? $"put {change.Key} = {change.Text} (version {change.Version}, revision {change.Revision}, position {change.Position})"
                    : $"delete {change.Key} (revision {change.Revision}, position {change.Position})";
                printer.PrintResult(text, new { Event = change.Kind.ToString().ToLowerInvariant(), change.Key,
                    Value = change.Kind == KvEventKind.Put ? change.Text : null, change.Version, change.Revision, change.Position });
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }
        catch (KvException refused)
        {
            printer.PrintError($"{refused.Status}: {refused.Message}");
            return refused switch
            {
                KvUnavailableException => ExitCodes.Unavailable,
                KvWatchCompactedException => ExitCodes.InvalidInput,
                _ => ExitCodes.OperationFailed,
            };
        }
        return ExitCodes.Success;
    }
}
