using KvAspire.Operations;

namespace KvAspire.Node.Ring;

/// <summary>One position's page of a list, the revision it was read at, and the epoch of the range it held (<see cref="ListPage.ClaimEpoch"/>).</summary>
public sealed record ListPart(int Position, long Revision, IReadOnlyList<ListedKey> Keys, bool More, long ClaimEpoch = 0);

/// <summary>
/// The ring's page of a list, from the pages of its positions, each in key order. A position that has keys
/// past the last one it gave bounds the page: past that key, keys of it may be missing, so the page stops
/// there and the next one starts after it. Pure.
/// </summary>
public static class ListMerge
{
    /// <summary>The ring's page: its keys with their positions, in key order, and the revision each part was read at.</summary>
    public static ListPage Merge(IReadOnlyList<ListPart> parts, int limit, int maxBytes)
    {
        var bound = parts.Where(part => part.More && part.Keys.Count > 0).Select(part => part.Keys[^1].Key).Min(StringComparer.Ordinal);
        var candidates = parts.SelectMany(part => part.Keys.Select(key => key with { Position = part.Position }))
            .Where(key => bound is null || string.CompareOrdinal(key.Key, bound) <= 0)
            .OrderBy(key => key.Key, StringComparer.Ordinal)
            .ToList();
        var keys = new List<ListedKey>();
        var bytes = 0L;
        foreach (var key in candidates)
        {
            bytes += System.Text.Encoding.UTF8.GetByteCount(key.Key) + key.Value.Length;
            if (keys.Count == limit || keys.Count > 0 && bytes > maxBytes)
                break;
            keys.Add(key);
        }
        return new ListPage(keys, keys.Count < candidates.Count || bound is not null, parts.ToDictionary(part => part.Position, part => part.Revision));
    }
}
