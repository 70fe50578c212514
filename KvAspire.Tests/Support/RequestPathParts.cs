using DotNext.Net.Cluster.Consensus.Raft;
using KvAspire.Cluster;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Node.Ring;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace KvAspire.Tests.Support;

/// <summary>
/// The real parts of node p0r0's request path, in process, on fake time and over a stand-in for its Raft
/// group (<see cref="Raft"/>), for a ring of <c>positions</c> × <c>replicas</c> in which no other node runs.
/// </summary>
public sealed class RequestPathParts : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly NodeDataDirectory _data = new();
    private readonly ApplicationLifetime _lifetime = new(NullLogger<ApplicationLifetime>.Instance);

    public RequestPathParts(int positions = 1, int replicas = 3, int maxValueBytes = 1024 * 1024)
    {
        Topology = TopologyLoader.Load(TestTopology.Ring(_directory, positions, maxValueBytes, replicas: replicas).Path);
        Self = Topology.GetNode("p0r0");
        Options = NodeOptions.For(Topology);
        Ring = new LocalRing(Topology, Self, RingLayoutFile.In(_data.Path), TestTelemetry.Create(), NullLogger<LocalRing>.Instance);
        Queues = new PipelineQueues(Options);
        Peers = new PeerClients(Topology, new PeerAuthentication(new ClusterSecret(null), MemberTls.None, new HashSet<string>()), MemberTls.None, Options, Clock);
        Reachability = new PeerReachability(Peers, Options, _lifetime, Clock, NullLogger<PeerReachability>.Instance);
        var recovered = _data.Recover();
        var stateMachine = new CommittedOrder(Queues, recovered, new FailStop(_lifetime), NullLogger<CommittedOrder>.Instance);
        Group = new RaftGroup(Topology, Self);
        var group = Group;
        Replication = new ReplicationPath(Raft, group, stateMachine, new WriteProposer(Raft, new LeaseReadiness(Raft, group, Options, MemberTls.None), Options, Clock), new LeaderHandOff(Raft, group, Peers, Options, Clock),
            new FollowerReads(Raft, group, Peers, Options, Clock), Self, Options, Clock,
            NullLogger<ReplicationPath>.Instance);
        Forwarder = new Forwarder(Ring, Peers, Reachability, Options, TestTelemetry.Create(), Clock);
        CatchUp = new LayoutCatchUp(Ring, Self, Peers, Options, Clock);
        Events = new PositionEvents(Ring, Self, recovered.Events, Raft, Peers, Reachability, Options, TestTelemetry.Create(), Clock);
    }

    public ClusterTopology Topology { get; }

    public NodeInfo Self { get; }

    public RaftGroup Group { get; }

    public NodeOptions Options { get; }

    public FakeTimeProvider Clock { get; } = new();

    public IRaftCluster Raft { get; } = Substitute.For<IRaftCluster>();

    public LocalRing Ring { get; }

    public LayoutCatchUp CatchUp { get; }

    public PipelineQueues Queues { get; }

    public PeerClients Peers { get; }

    public PeerReachability Reachability { get; }

    public ReplicationPath Replication { get; }

    public Forwarder Forwarder { get; }

    public PositionEvents Events { get; }

    public void Dispose()
    {
        _lifetime.StopApplication();
        Peers.Dispose();
        _data.Dispose();
        _directory.Dispose();
    }
}
