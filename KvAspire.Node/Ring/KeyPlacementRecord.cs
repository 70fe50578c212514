using KvAspire.Node.Storage;

namespace KvAspire.Node.Ring;

/// <summary>
/// Remembers in the data directory (<c>placement</c>) how the ring placed the keys this replica holds: by
/// the whole key, or by a key's <c>{tag}</c> (the topology's <c>PlacementTags</c>). Turning tags on or off
/// moves every key with a tag to another position, where nobody would find the data written before; so a
/// node whose topology places keys otherwise than its data was placed refuses to start. A directory with
/// data and no record was written before placement tags existed: by whole keys.
/// </summary>
public static class KeyPlacementRecord
{
    public const string FileName = "placement";
    private const string ByTags = "tags";
    private const string ByWholeKeys = "whole-keys";

    /// <exception cref="IOException">The data was placed otherwise, or the record cannot be read or written.</exception>
    public static void Check(string dataDirectory, bool placementTags)
    {
        var path = Path.Combine(dataDirectory, FileName);
        var wanted = placementTags ? ByTags : ByWholeKeys;
        var recorded = File.Exists(path);
        string held;
        if (recorded)
            held = File.ReadAllText(path).Trim();
        else if (Directory.Exists(dataDirectory) && DataFiles.List(dataDirectory) is { Logs.Count: > 0 } or { Snapshots.Count: > 0 })
            held = ByWholeKeys;
        else
            held = wanted;
        if (held != wanted)
        {
            throw new IOException(
                $"its keys were placed {Describe(held)}, and the topology places them {Describe(wanted)} (PlacementTags: {placementTags.ToString().ToLowerInvariant()}): " +
                "keys with a {tag} would be looked for on other positions than the ones holding them. Set PlacementTags back, " +
                "or start the ring on empty data directories and write its data again");
        }
        if (!recorded)
            Write(path, wanted);
    }

    private static string Describe(string placement) => placement switch
    {
        ByTags => "by their {tag}",
        ByWholeKeys => "by the whole key",
        _ => $"in a way this release does not know ('{placement}')",
    };

    private static void Write(string path, string placement) => FileSync.ReplaceText(path, placement);
}
