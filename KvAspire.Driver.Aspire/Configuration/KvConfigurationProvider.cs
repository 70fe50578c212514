using Microsoft.Extensions.Configuration;

namespace KvAspire.Driver.Aspire.Configuration;

/// <summary>
/// Lists the prefix, then watches it from the list's revisions (skipping changes the list already shows), so no
/// change between the two is missed; when the watch fails for good (the cluster unreachable, or its start
/// compacted away), lists again. Each change replaces the whole dictionary, which readers see at once or not at all.
/// </summary>
internal sealed class KvConfigurationProvider(KvConfigurationSource source) : ConfigurationProvider, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly KvClient _client = new(source.ClientOptions);
    private Task? _keepingCurrent;

    /// <exception cref="InvalidOperationException">The cluster did not answer and the source is not optional.</exception>
    public override void Load()
    {
        // Reload() of the configuration calls this again: the watch keeps the data current already.
        if (_keepingCurrent is not null)
            return;
        KvListing? listing = null;
        try
        {
            listing = _client.ListAllAsync(source.Prefix, cancellationToken: _stop.Token).GetAwaiter().GetResult();
            Data = FromItems(listing.Items);
        }
        catch (KvException) when (source.Optional)
        {
            // Starts empty: the loop below lists again until the cluster answers.
        }
        catch (KvException e)
        {
            _client.Dispose();
            throw new InvalidOperationException($"could not read configuration under '{source.Prefix}' from KvAspire: {e.Message} (make the source optional to start without it)", e);
        }
        _keepingCurrent = Task.Run(() => KeepCurrentAsync(listing));
    }

    private async Task KeepCurrentAsync(KvListing? listing)
    {
        var options = new KvWatchOptions { Prefix = true };
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (listing is null)
                {
                    listing = await _client.ListAllAsync(source.Prefix, cancellationToken: _stop.Token);
                    Data = FromItems(listing.Items);
                    OnReload();
                }
                await foreach (var change in _client.WatchAsync(source.Prefix, options with { After = listing.WatchFrom }, _stop.Token))
                {
                    if (!listing.Shows(change))
                        Apply(change);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (KvException)
            {
                // Unreachable past the client's retry window, or the watch's start is compacted away: list afresh.
                await Task.Delay(source.RetryDelay, _stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            listing = null;
        }
    }

    private void Apply(KvEvent change)
    {
        if (Path(change.Key) is not { } path)
            return;
        var data = new Dictionary<string, string?>(Data, StringComparer.OrdinalIgnoreCase);
        if (change.Kind == KvEventKind.Delete)
            data.Remove(path);
        else
            data[path] = change.Text;
        Data = data;
        OnReload();
    }

    private Dictionary<string, string?> FromItems(IEnumerable<KvListItem> items)
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in items)
        {
            if (Path(item.Key) is { } path)
                data[path] = item.Text;
        }
        return data;
    }

    /// <summary>The configuration path of a key: after the prefix, <c>/</c> as <c>:</c>; none for the prefix itself.</summary>
    private string? Path(string key) =>
        key.Length > source.Prefix.Length ? key[source.Prefix.Length..].Replace('/', ConfigurationPath.KeyDelimiter[0]) : null;

    public void Dispose()
    {
        _stop.Cancel();
        _keepingCurrent?.GetAwaiter().GetResult();
        _client.Dispose();
        _stop.Dispose();
    }
}
