using System.Diagnostics;
using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Backups;
using KvAspire.Cluster;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Client.Shell;

/// <summary>
/// The <c>backup &lt;dir&gt;</c> command: asks a node for the ring's layout, then each position in turn
/// for a copy at a linearizable point (the Admin service's <c>Backup</c>: a read through the replica
/// called, then a snapshot holding everything applied there), trying its replicas one after another. Each
/// copy is checked against the SHA-256 its node sent and written durably; <c>backup.json</c> (the layout,
/// each copy's size and SHA-256) is written last, so a directory without it is no backup. Every write
/// acknowledged before the command began is in the backup. A backup that spans a change of the ring (a
/// copy's position holds a range newer than the layout it began with) is refused, not written. Progress goes to standard error. Sends the
/// cluster secret from the environment when it is set.
/// </summary>
public sealed class RingBackup(IReadOnlyList<string> nodes, AdminAccess access, ReplyPrinter printer)
{
    private const long ProgressEveryBytes = 64L * 1024 * 1024;

    /// <summary>A copy is one snapshot of a position, sent whole: as long as reading the map from disk takes.</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromMinutes(10);

    private readonly Metadata _headers = access.Headers;
    private readonly Dictionary<int, long> _claimEpochs = [];

    public async Task<int> RunAsync(string directory)
    {
        directory = Path.GetFullPath(directory);
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
        {
            printer.PrintError($"{directory} is not empty: a backup goes into a new or empty directory");
            return ExitCodes.InvalidInput;
        }
        var began = DateTimeOffset.UtcNow;
        var elapsed = Stopwatch.StartNew();
        if (await GetLayoutAsync() is not { } layout)
            return ExitCodes.Unavailable;
        Directory.CreateDirectory(directory);

        var copies = new List<BackupPosition>();
        for (var position = 0; position < layout.Positions; position++)
        {
            var failures = new List<string>();
            foreach (var replica in layout.Nodes.Where(n => n.Position == position))
            {
                try
                {
                    copies.Add(await CopyAsync(replica, position, directory));
                    break;
                }
                catch (RpcException e) when (e.StatusCode is StatusCode.PermissionDenied)
                {
                    printer.PrintError($"{replica.Name}: {e.Status.Detail} (set {ClusterSecret.Variable})");
                    return ExitCodes.InvalidInput;
                }
                catch (Exception e) when (e is RpcException or InvalidDataException)
                {
                    failures.Add($"{replica.Name}: {(e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message)}");
                }
            }
            if (copies.Count == position)
            {
                printer.PrintError($"no replica of position {position} gave a copy; the backup in {directory} is not finished: {string.Join("; ", failures)}");
                return ExitCodes.Unavailable;
            }
        }

        var ring = RingLayout.FromMessage(layout);
        // A copy whose position holds a range newer than the layout: the ring changed during the backup (or a move is under way).
        if (_claimEpochs.MaxBy(pair => pair.Value) is var (changed, epoch) && epoch > ring.Epoch)
        {
            printer.PrintError($"position {changed} holds a range of ring epoch {epoch}, newer than the layout the backup began with (epoch {ring.Epoch}): " +
                               $"the ring changed during the backup, or a move is under way; {directory} is no backup (no backup.json): run it again once the ring is still");
            return ExitCodes.Unavailable;
        }
        var manifest = new BackupManifest(BackupManifest.CurrentFormat, began, layout.IdBits, layout.Positions, layout.PlacementTags,
            layout.Nodes.Select(n => $"{n.Name} {n.GrpcEndpoint}").ToList(), copies, ring.Epoch, ring.PositionIds);
        manifest.Write(directory);
        var bytes = copies.Sum(c => c.Bytes);
        printer.PrintResult($"backup of {layout.Positions} position(s), {Mebibytes(bytes)}, in {directory} ({elapsed.Elapsed.TotalSeconds:F1} s): " +
                            $"every write acknowledged before {began:u} is in it",
            new { command = "backup", directory, positions = layout.Positions, bytes, taken = began, copies });
        return ExitCodes.Success;
    }

    private async Task<Layout?> GetLayoutAsync()
    {
        var failures = new List<string>();
        foreach (var node in nodes)
        {
            using var channel = access.Channel(node);
            try
            {
                return await new ClusterInfo.ClusterInfoClient(channel).GetLayoutAsync(new GetLayoutRequest(), _headers, DateTime.UtcNow.AddSeconds(10));
            }
            catch (RpcException e)
            {
                failures.Add($"{node}: {e.StatusCode}: {e.Status.Detail}");
            }
        }
        printer.PrintError($"no node gave the ring's layout: {string.Join("; ", failures)}");
        return null;
    }

    /// <exception cref="RpcException">The replica did not give a copy.</exception>
    /// <exception cref="InvalidDataException">The copy that came is not the one the replica described.</exception>
    private async Task<BackupPosition> CopyAsync(LayoutNode replica, int position, string directory)
    {
        using var channel = access.Channel(replica.GrpcEndpoint, maxReceiveMessageSize: 16 * 1024 * 1024);
        using var call = new Admin.AdminClient(channel).Backup(new BackupRequest(), _headers, DateTime.UtcNow + CallTimeout);
        var name = BackupManifest.CopyName(position);
        var path = Path.Combine(directory, name);
        BackupHeader? header = null;
        string? sentSha256 = null;
        long received = 0, reported = 0;
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var file = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write))
        {
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                header ??= chunk.Header;
                sha256.AppendData(chunk.Data.Span);
                await file.WriteAsync(chunk.Data.Memory);
                received += chunk.Data.Length;
                if (chunk.Sha256.Length > 0)
                    sentSha256 = chunk.Sha256;
                if (received - reported >= ProgressEveryBytes)
                {
                    reported = received;
                    printer.PrintProgress($"position {position}: {Mebibytes(received)} of {Mebibytes(header?.Bytes ?? 0)} from {replica.Name}");
                }
            }
            file.Flush(flushToDisk: true);
        }
        var sha = Convert.ToHexStringLower(sha256.GetHashAndReset());
        _claimEpochs[position] = header?.ClaimEpoch ?? 0;
        if (header is null || received != header.Bytes || sha != sentSha256)
        {
            File.Delete(path + ".tmp");
            throw new InvalidDataException($"the copy of position {position} came with {received} bytes and SHA-256 {sha}; " +
                                           $"{replica.Name} sent {header?.Bytes} bytes with {sentSha256}");
        }
        if (received == 0)
        {
            File.Delete(path + ".tmp");
            printer.PrintProgress($"position {position}: never written, nothing to copy ({replica.Name})");
            return new BackupPosition(position, replica.Name, null, 0, null, 0, header.Revision);
        }
        File.Move(path + ".tmp", path);
        printer.PrintProgress($"position {position}: {Mebibytes(received)} through index {header.LastIndex}, revision {header.Revision} or later, from {replica.Name}");
        return new BackupPosition(position, replica.Name, name, received, sha, header.LastIndex, header.Revision);
    }

    private static string Mebibytes(long bytes) => $"{bytes / (1024.0 * 1024):F1} MiB";
}
