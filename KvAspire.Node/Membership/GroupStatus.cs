using System.Diagnostics.Metrics;
using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Groups;
using KvAspire.Node.Consensus;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Telemetry;
using Microsoft.AspNetCore.Connections;

namespace KvAspire.Node.Membership;

/// <summary>
/// Who leads this node's position, as this node sees it: logged at each change, published as metrics
/// (<c>kvaspire.raft.leader</c> is 1 on the leader, so the dashboard shows which replica leads) and
/// served at <c>/status</c> for the client's <c>ring</c> command, with the process's memory.
/// </summary>
public sealed class GroupStatus(IRaftCluster raft, RaftGroup group, CommittedOrder order, ApplyWorker applier, MemberIdentity identity, IMeterFactory meterFactory,
    ILogger<GroupStatus> logger)
{
    public const string Path = GroupStatusClient.Path;

    /// <summary>Logs each leader change and publishes the metrics; called before Raft starts, to see its first.</summary>
    public void Watch()
    {
        raft.LeaderChanged += (_, leader) =>
            NodeLog.LeaderChanged(logger, group.Self.Position, leader is null ? "none" : group.NodeOf(leader.EndPoint).Name, raft.Term);

        var meter = meterFactory.Create(NodeTelemetry.Name);
        meter.CreateObservableGauge("kvaspire.raft.leader", () => raft.Leader is { IsRemote: false } ? 1 : 0, "{leader}",
            "1 while this node leads its position's Raft group");
        meter.CreateObservableGauge("kvaspire.raft.term", () => raft.Term, "{term}", "This node's current Raft term");
        meter.CreateObservableGauge("kvaspire.raft.commit_index", () => raft.AuditTrail.LastCommittedEntryIndex, "{entry}",
            "The last Raft index this node knows to be committed");
    }

    public GroupStatusReport Report()
    {
        var leader = raft.Leader;
        return new GroupStatusReport(
            group.Self.Name,
            group.Self.Position,
            !raft.Members.Any(m => !m.IsRemote) ? "standby" : leader is null ? "candidate" : leader.IsRemote ? "follower" : "leader",
            leader is null ? null : group.NodeOf(leader.EndPoint).Name,
            raft.Term,
            raft.AuditTrail.LastCommittedEntryIndex,
            applier.AppliedIndex,
            identity.Address.ToString(),
            [.. raft.Members.Select(m => m.EndPoint is UriEndPoint { Uri: var uri } ? uri.ToString() : m.EndPoint.ToString()!)],
            order.HoldsWrites,
            MemoryReading.Now(),
            applier.Revision,
            CountsRevisions: true,
            KeepsLeases: true,
            ChecksOwnership: true);
    }
}
