using System.Security.Cryptography;
using System.Text.Json;
using KvAspire.Routing;

namespace KvAspire.Backups;

/// <summary>A position's copy in a backup: its snapshot file, or none for a position never written.</summary>
/// <param name="File">The snapshot file's name in the backup's directory; null when the position held nothing.</param>
/// <param name="Revision">The position's revision at the copy's read point: the copy holds every change up to it, at least.</param>
public sealed record BackupPosition(int Position, string Node, string? File, long Bytes, string? Sha256, long LastIndex, long Revision);

/// <summary>
/// <c>backup.json</c>, written last into a backup's directory (so a directory without it is no backup):
/// the ring the copies come from (a restore needs the same id bits, positions and placement, and routes
/// with the layout's epoch and ring ids) and each position's copy with its SHA-256. Format 1, before
/// layouts had epochs, names neither: its ring is the topology's first, evenly spaced.
/// </summary>
public sealed record BackupManifest(int Format, DateTimeOffset Taken, int IdBits, int Positions, bool PlacementTags,
    IReadOnlyList<string> Nodes, IReadOnlyList<BackupPosition> Copies, long Epoch = 0, IReadOnlyList<ulong>? PositionIds = null)
{
    public const string FileName = "backup.json";
    public const int CurrentFormat = 2;
    private const int FirstFormat = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The name of position <paramref name="position"/>'s snapshot in a backup.</summary>
    public static string CopyName(int position) => $"position-{position}.snap";

    /// <exception cref="InvalidDataException">No manifest there, or one this release cannot read.</exception>
    public static BackupManifest Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!System.IO.File.Exists(path))
            throw new InvalidDataException($"{directory} is not a backup: it has no {FileName} (a backup that did not finish has none)");
        BackupManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<BackupManifest>(System.IO.File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} cannot be read: {e.Message}", e);
        }
        if (manifest is null || manifest.Format is < FirstFormat or > CurrentFormat)
            throw new InvalidDataException($"{path} is of format {manifest?.Format}; this release reads formats {FirstFormat} to {CurrentFormat}");
        if (manifest.PositionIds is { } ids)
        {
            if (ids.Count != manifest.Positions)
                throw new InvalidDataException($"{path} names {ids.Count} ring ids for its {manifest.Positions} positions");
            try
            {
                _ = new RingMath(manifest.IdBits, ids);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new InvalidDataException($"{path} names ring ids that are not a ring: {e.Message}", e);
            }
        }
        if (manifest.Copies.Select(c => c.Position).Order().SequenceEqual(Enumerable.Range(0, manifest.Positions)) is false)
            throw new InvalidDataException($"{path} does not hold one copy for each of its {manifest.Positions} positions");
        return manifest;
    }

    /// <summary>Writes the manifest durably, the last file of a backup.</summary>
    public void Write(string directory)
    {
        var path = Path.Combine(directory, FileName);
        using (var file = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(file, this, Json);
            file.Flush(flushToDisk: true);
        }
        System.IO.File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>The path of a position's copy, once its size and SHA-256 are checked; null for a position never written.</summary>
    /// <exception cref="InvalidDataException">The copy is missing, or its size or SHA-256 is not the manifest's.</exception>
    public string? VerifiedCopy(string directory, int position)
    {
        var copy = Copies.Single(c => c.Position == position);
        if (copy.File is null)
            return null;
        var path = Path.Combine(directory, copy.File);
        if (!System.IO.File.Exists(path))
            throw new InvalidDataException($"{path} is missing from the backup");
        using var file = System.IO.File.OpenRead(path);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(file));
        if (file.Length != copy.Bytes || sha256 != copy.Sha256)
            throw new InvalidDataException($"{path} is damaged: {file.Length} bytes with SHA-256 {sha256}, the backup says {copy.Bytes} bytes with {copy.Sha256}");
        return path;
    }
}
