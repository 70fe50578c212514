using System.Security.Cryptography;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Http;
using Google.Protobuf;
using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.Groups;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Errors;
using KvAspire.Node.Membership;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Node.Ring;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using KvAspire.Routing;
using KvAspire.V1;
using Microsoft.AspNetCore.Connections;

namespace KvAspire.Node.Api;

/// <summary>
/// The cluster's own operations. <c>ReplaceReplica</c>, on the leader of the replica's position: the
/// replacement (the node started again with an empty data directory, now a standby at a new Raft address)
/// is asked for its address; the member(s) at that node's host and port are removed from the group, then
/// the replacement added (DotNext catches it up first). Each step is a Raft membership change, one at a time.
/// <c>StepDown</c> and <c>TakeSnapshot</c> act on the node called (the dashboard's commands for a node);
/// <c>Backup</c> streams a copy of its position at a linearizable point (the console's <c>backup</c>).
/// <c>MoveBoundary</c>, <c>AddPosition</c> and <c>RemovePosition</c> start a move of a range (the giver's fence;
/// its leader drives the rest: <see cref="RangeMoves"/>, <see cref="MovePlan"/>) and stream its progress.
/// Every call needs the cluster secret when there is one (<see cref="MemberCallInterceptor"/>).
/// </summary>
public sealed class AdminService(IRaftHttpCluster raft, RaftGroup group, ClusterTopology topology, CommittedOrder order, ReplicationPath replication,
    ApplyWorker applier, RangeMoves moves, NodeOptions options, MemberTls tls, ILogger<AdminService> logger) : Admin.AdminBase
{
    private const int BackupChunkBytes = 1024 * 1024;

    public override async Task<ReplaceReplicaReply> ReplaceReplica(ReplaceReplicaRequest request, ServerCallContext context)
    {
        var target = topology.Nodes.FirstOrDefault(n => n.Name == request.Node)
            ?? throw Refused(StatusCode.InvalidArgument, $"no node named '{request.Node}' in the topology");
        var self = group.Self;
        if (target.Position != self.Position)
            throw Refused(StatusCode.FailedPrecondition, $"{target.Name} is a replica of position {target.Position}; {self.Name} leads nothing there");
        if (raft.Leader is not { IsRemote: false })
        {
            throw Refused(StatusCode.FailedPrecondition, $"{self.Name} is not the leader of position {self.Position} " +
                $"(leader: {(raft.Leader is { } leader ? group.NodeOf(leader.EndPoint).Name : "none")})");
        }
        if (target == self)
            throw Refused(StatusCode.FailedPrecondition, $"{target.Name} leads position {self.Position}: its data is whole, there is nothing to replace");

        using var http = tls.StatusClient(options.ReplacementAskTimeout, member => member == target.Name);
        var report = await GroupStatusClient.TryGetAsync(http, target, context.CancellationToken)
            ?? throw Refused(StatusCode.Unavailable, $"{target.Name} does not answer at {target.HttpUri}: start the replacement first");
        var replacement = new UriEndPoint(new Uri(report.Member));
        var members = ((IRaftCluster)raft).Members.Select(m => (UriEndPoint)m.EndPoint).ToList();
        var stale = members.Where(m => RaftGroup.IsAt(m, target) && !RaftAddressComparer.Instance.Equals(m, replacement)).ToList();
        var reply = new ReplaceReplicaReply();
        foreach (var member in stale)
        {
            if (!await raft.RemoveMemberAsync(member.Uri, context.CancellationToken))
                throw Refused(StatusCode.Aborted, $"removing {member.Uri} from position {self.Position} did not commit; try again");
            reply.Removed.Add(member.Uri.ToString());
        }
        if (!members.Contains(replacement, RaftAddressComparer.Instance))
        {
            await AddAsync(replacement, target, context.CancellationToken);
            reply.Added = replacement.Uri.ToString();
            NodeLog.MemberReplaced(logger, self.Position, string.Join(", ", reply.Removed), reply.Added, target.Name);
        }
        return reply;
    }

    public override async Task<StepDownReply> StepDown(StepDownRequest request, ServerCallContext context)
    {
        if (raft.Leader is not { IsRemote: false })
            return new StepDownReply { WasLeader = false };
        await raft.ResignAsync(context.CancellationToken);
        return new StepDownReply { WasLeader = true };
    }

    public override async Task<TakeSnapshotReply> TakeSnapshot(TakeSnapshotRequest request, ServerCallContext context)
    {
        if (await order.StartSnapshotAsync(context.CancellationToken) is not { } marker)
            return new TakeSnapshotReply { Taken = false };
        var (index, _) = await marker.Written.WaitAsync(context.CancellationToken);
        return new TakeSnapshotReply { Taken = true, Number = marker.Number, LastIndex = index };
    }

    public override async Task Backup(BackupRequest request, IServerStreamWriter<BackupChunk> responseStream, ServerCallContext context)
    {
        var self = group.Self;
        long revision;
        StoredSnapshot? snapshot;
        try
        {
            // A read through this node: every write acknowledged before the call is applied here after it.
            revision = await replication.ReadRevisionAsync(context.CancellationToken);
            snapshot = await order.SnapshotHoldingAllAsync(context.CancellationToken);
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
        // Read after the snapshot: at or past the claim the snapshot holds.
        var header = new BackupHeader { Node = self.Name, Position = self.Position, Revision = revision, ClaimEpoch = applier.Claim?.Epoch ?? 0 };
        if (snapshot is null)
        {
            await responseStream.WriteAsync(new BackupChunk { Header = header, Sha256 = Convert.ToHexStringLower(SHA256.HashData([])) });
            return;
        }
        // Open before anything is sent: a snapshot removed by retention later is still read whole.
        await using var file = new FileStream(snapshot.FilePath, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
            BackupChunkBytes, FileOptions.Asynchronous | FileOptions.SequentialScan);
        header.LastIndex = snapshot.Index;
        header.Bytes = file.Length;
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[BackupChunkBytes];
        var chunk = new BackupChunk { Header = header };
        int read;
        while ((read = await file.ReadAsync(buffer, context.CancellationToken)) > 0)
        {
            sha256.AppendData(buffer, 0, read);
            chunk.Data = ByteString.CopyFrom(buffer, 0, read);
            await responseStream.WriteAsync(chunk, context.CancellationToken);
            chunk = new BackupChunk();
        }
        chunk.Sha256 = Convert.ToHexStringLower(sha256.GetHashAndReset());
        await responseStream.WriteAsync(chunk, context.CancellationToken);
        NodeLog.BackupSent(logger, self.Position, DataFiles.SnapshotName(snapshot.Number), snapshot.Index, header.Bytes);
    }

    public override Task MoveBoundary(MoveBoundaryRequest request, IServerStreamWriter<MoveProgress> responseStream, ServerCallContext context) =>
        MoveAsync(layout => MovePlan.Boundary(layout, request.Position, request.RingId), responseStream, context);

    public override Task AddPosition(AddPositionRequest request, IServerStreamWriter<MoveProgress> responseStream, ServerCallContext context) =>
        MoveAsync(layout => MovePlan.Add(layout, request.Position, [.. topology.ReplicasOf(request.Position).Select(RingMember.Of)],
            request.HasRingId ? request.RingId : null), responseStream, context);

    public override Task RemovePosition(RemovePositionRequest request, IServerStreamWriter<MoveProgress> responseStream, ServerCallContext context) =>
        MoveAsync(layout => MovePlan.Remove(layout, request.Position), responseStream, context);

    public override Task FollowMove(FollowMoveRequest request, IServerStreamWriter<MoveProgress> responseStream, ServerCallContext context) =>
        Reporting(report => moves.FollowAsync(request.Giver, request.Epoch, report, context.CancellationToken), responseStream, context);

    private Task MoveAsync(Func<RingLayout, MovePlan> planOf, IServerStreamWriter<MoveProgress> responseStream, ServerCallContext context) =>
        Reporting(report => moves.RunAsync(planOf, report, context.CancellationToken), responseStream, context);

    /// <summary>Streams a move's progress as <paramref name="work"/> reports it; its failures as the caller's status.</summary>
    private static async Task Reporting(Func<Func<MoveProgress, Task>, Task> work, IServerStreamWriter<MoveProgress> responseStream, ServerCallContext context)
    {
        try
        {
            await work(progress => responseStream.WriteAsync(progress, context.CancellationToken));
        }
        catch (ArgumentException e)
        {
            throw Refused(StatusCode.InvalidArgument, e.Message);
        }
        catch (RequestFailedException failure)
        {
            throw StatusMapping.ToRpcException(failure);
        }
    }

    /// <summary>
    /// DotNext gives up on a new member that has not caught up within its warm-up rounds (under load the
    /// log moves on meanwhile), or that answered one round with another term: try again until the call's
    /// deadline, for the group stays short of a member until it is in.
    /// </summary>
    private async Task AddAsync(UriEndPoint replacement, NodeInfo target, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await raft.AddMemberAsync(replacement.Uri, cancellationToken))
                return;
            if (cancellationToken.IsCancellationRequested || raft.Leader is not { IsRemote: false })
                throw Refused(StatusCode.Aborted, $"{target.Name} at {replacement.Uri} was not added after {attempt} attempt(s); try again");
            await Task.Delay(options.ReplacementAddRetryPause, cancellationToken);
        }
    }

    private static RpcException Refused(StatusCode code, string message) => new(new Status(code, message));
}
