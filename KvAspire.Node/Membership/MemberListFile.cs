using System.Buffers.Binary;
using System.Text;
using DotNext.Buffers;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using KvAspire.Node.Storage;
using Microsoft.AspNetCore.Connections;

namespace KvAspire.Node.Membership;

/// <summary>
/// The Raft group's membership as this node last applied it, in <c>raft/members</c>: DotNext's persistent
/// configuration storage (an 8-byte version, the log index of the change, then the members), each member
/// written as the UTF-8 text of its Raft URI. Kept apart from the log, so that a membership change survives
/// the compaction of the entry that made it.
/// </summary>
public sealed class MemberListFile(string path) : PersistentClusterConfigurationStorage<UriEndPoint>(path)
{
    public const string FileName = "members";

    protected override IEqualityComparer<UriEndPoint> Comparer => RaftAddressComparer.Instance;

    /// <summary>
    /// The first membership of a group that starts from nothing: written at version 0 when there is no
    /// file yet, so that every later change (a higher version) replaces it.
    /// </summary>
    public static void Seed(string path, IEnumerable<Uri> members)
    {
        if (File.Exists(path))
            return;
        var encoded = members.Select(m => Encoding.UTF8.GetBytes(m.ToString())).ToList();
        var bytes = new byte[8 + 4 + encoded.Sum(e => 4 + e.Length)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), encoded.Count);
        var offset = 12;
        foreach (var member in encoded)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), member.Length);
            member.CopyTo(bytes, offset + 4);
            offset += 4 + member.Length;
        }
        FileSync.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        FileSync.Directory(Path.GetDirectoryName(path)!);
    }

    protected override void Encode(UriEndPoint address, ref BufferWriterSlim<byte> writer)
    {
        var text = Encoding.UTF8.GetBytes(address.Uri.ToString());
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, text.Length);
        writer.Write(length);
        writer.Write(text);
    }

    protected override UriEndPoint Decode(ref SequenceReader reader)
    {
        var text = new byte[reader.ReadLittleEndian<int>()];
        reader.Read(text);
        return new UriEndPoint(new Uri(Encoding.UTF8.GetString(text)));
    }
}
