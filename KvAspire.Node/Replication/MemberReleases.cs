using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Groups;
using KvAspire.Node.Consensus;

namespace KvAspire.Node.Replication;

/// <summary>
/// What the releases of a leader's members can do, as their status says: a feature whose entries an older
/// release would not read (it skips an entry it cannot decode, and would then disagree for good) waits
/// until every member says its release has it.
/// </summary>
public static class MemberReleases
{
    /// <summary>A member of the group, as this leader knows it, whose status does not say <paramref name="has"/> (and why), or null when none.</summary>
    public static async Task<(string Member, string Reason)?> FirstLackingAsync(IRaftCluster raft, RaftGroup group, HttpClient http,
        Func<GroupStatusReport, bool> has, string lacking, CancellationToken cancellationToken)
    {
        var members = raft.Members.Where(member => member.IsRemote).Select(member => group.NodeOf(member.EndPoint)).Distinct().ToList();
        var answers = await Task.WhenAll(members.Select(member => GroupStatusClient.TryGetAsync(http, member, cancellationToken)));
        for (var i = 0; i < members.Count; i++)
        {
            if (answers[i] is not { } answer)
                return (members[i].Name, "does not answer its status");
            if (!has(answer))
                return (members[i].Name, lacking);
        }
        return null;
    }
}
