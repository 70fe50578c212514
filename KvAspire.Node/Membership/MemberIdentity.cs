using System.Security.Cryptography;
using KvAspire.Groups;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Peers;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Membership;

/// <summary>
/// Who this node is in its Raft group: the Raft address it answers at, kept in <c>member</c> in the data
/// directory. A node that finds its data directory empty cannot tell a first start from a lost disk by
/// itself, and a replica that forgot its votes and log must not come back as itself (Raft counts on both).
/// So it asks the other replicas: when one of them already holds client writes, this is a replacement,
/// and it takes a new address (<c>/raft/&lt;random&gt;</c>) and waits, voting for no one, until the leader
/// adds it in place of the member it was (<c>kv replace-replica</c>). Otherwise the group is new and it is
/// a founding member at <c>/raft</c>, with the topology's replicas as the first membership.
/// </summary>
public sealed record MemberIdentity(Uri Address)
{
    public const string FileName = "member";

    /// <summary>Whether this is a founding member of <paramref name="group"/> (not a replacement).</summary>
    public bool Founds(RaftGroup group) => Address == RaftGroup.AddressOf(group.Self);

    public static async Task<MemberIdentity> ResolveAsync(RaftGroup group, string dataDirectory, NodeOptions options, MemberTls tls, ILogger logger,
        CancellationToken cancellationToken)
    {
        var file = Path.Combine(dataDirectory, FileName);
        var members = Path.Combine(dataDirectory, "raft", MemberListFile.FileName);
        if (File.Exists(file))
            return new MemberIdentity(new Uri((await File.ReadAllTextAsync(file, cancellationToken)).Trim()));

        var founding = RaftGroup.AddressOf(group.Self);
        MemberIdentity identity;
        // Meanwhile this node answers the same question ("starting, holding no writes": StartingHost).
        var holder = IsEmpty(dataDirectory) ? await PeersHoldWritesAsync(group, options, tls, logger, cancellationToken) : null;
        if (holder is null)
        {
            // A new group, or data from before identities were kept: the founding address and membership.
            MemberListFile.Seed(members, group.Members.Select(RaftGroup.AddressOf));
            identity = new MemberIdentity(founding);
        }
        else
        {
            identity = new MemberIdentity(new Uri(founding, $"{RaftGroup.Path}/{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}"));
            NodeLog.JoiningAsReplacement(logger, group.Self.Name, holder, identity.Address.ToString());
        }
        FileSync.CreateDirectory(dataDirectory);
        await using (var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write))
        {
            await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(identity.Address.ToString()), cancellationToken);
            stream.Flush(flushToDisk: true);
        }
        FileSync.Directory(dataDirectory);
        return identity;
    }

    /// <summary>Whether <paramref name="dataDirectory"/> holds nothing: a first start, or a lost disk.</summary>
    public static bool IsEmpty(string dataDirectory) =>
        !Directory.Exists(dataDirectory) || !Directory.EnumerateFileSystemEntries(dataDirectory).Any();

    /// <summary>
    /// The name of another replica that holds client writes, or null when the replicas that answer hold
    /// none. Waits until at least one answers: alone, this node cannot know what it may have promised.
    /// </summary>
    private static async Task<string?> PeersHoldWritesAsync(RaftGroup group, NodeOptions options, MemberTls tls, ILogger logger, CancellationToken cancellationToken)
    {
        var peers = group.Members.Where(m => m != group.Self).ToList();
        if (peers.Count == 0)
            return null;
        using var http = tls.StatusClient(options.StartupAskTimeout, group.IsMemberName);
        for (var round = 0; ; round++)
        {
            var answers = await Task.WhenAll(peers.Select(peer => GroupStatusClient.TryGetAsync(http, peer, cancellationToken)));
            if (answers.Any(a => a is not null))
                return answers.FirstOrDefault(a => a is { HoldsWrites: true })?.Node;
            if (round % 10 == 0)
                NodeLog.WaitingForPeers(logger, group.Self.Name, string.Join(", ", peers.Select(p => p.Name)));
            await Task.Delay(options.StartupAskInterval, cancellationToken);
        }
    }
}
