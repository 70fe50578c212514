using DotNext.IO.Log;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Http;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using KvAspire.Cluster;
using KvAspire.Node.Api;
using KvAspire.Node.Configuration;
using KvAspire.Node.Consensus;
using KvAspire.Node.Membership;
using KvAspire.Node.Peers;
using KvAspire.Node.Pipeline;
using KvAspire.Node.Replication;
using KvAspire.Node.Ring;
using KvAspire.Node.Startup;
using KvAspire.Node.Storage;
using KvAspire.Node.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KvAspire.Node;

/// <summary>Everything a node is made of, registered in one place from its topology entry.</summary>
public static class NodeServices
{
    private const string RaftClient = "raftClient";

    public static WebApplicationBuilder AddKvNode(this WebApplicationBuilder builder, ClusterTopology topology, NodeOptions options, NodeInfo node,
        RaftGroup group, MemberIdentity identity, NodePorts ports, MemberTls tls)
    {
        // Raft talks several times a second on every node: per-request logs would bury everything else.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Routing.EndpointMiddleware", LogLevel.Warning);
        // NotFound, AlreadyExists and FailedPrecondition are answers, not faults: one info line per answer
        // cost the console more than the request.
        builder.Logging.AddFilter("Grpc.AspNetCore.Server.ServerCallHandler", LogLevel.Warning);
        // Every unhealthy probe is an Error line of the health check service; while a position elects its
        // first leader that is expected. GroupReadiness logs each change of readiness instead, with its reason.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", LogLevel.Critical);
        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddSource(NodeTelemetry.Name))
            .WithMetrics(metrics => metrics.AddMeter(NodeTelemetry.Name));

        // The node listens on the ports Program.cs bound from the topology at its start: gRPC (HTTP/2) and,
        // on RaftPort, HTTP/1.1 for Raft, health and status (cleartext Kestrel cannot serve both on one port).
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // A snapshot sent to a replica that is far behind is one request body, as large as the map.
            kestrel.Limits.MaxRequestBodySize = null;
            ports.ListenOn(kestrel, tls, raft => raft.UseTunedSockets(options.RaftRetransmitFloor));
        });
        builder.Services.AddGrpc(grpc =>
        {
            // Room for a value over the limit to arrive and be refused with INVALID_ARGUMENT, not cut off,
            // and for the writes a follower hands its leader in one call (a Raft entry's worth, and one more).
            grpc.MaxReceiveMessageSize = Math.Max(4 * 1024 * 1024, Math.Max(2 * topology.MaxValueBytes, options.EntryBytes + topology.MaxValueBytes) + 64 * 1024);
        }).AddServiceOptions<KeyValueService>(keyValue =>
        {
            // Outermost first: metrics see every outcome, refusals included; the secret is checked before a slot is taken.
            keyValue.Interceptors.Add<TelemetryInterceptor>();
            keyValue.Interceptors.Add<MemberCallInterceptor>();
            keyValue.Interceptors.Add<AdmissionInterceptor>();
        }).AddServiceOptions<LeaseService>(lease =>
        {
            lease.Interceptors.Add<TelemetryInterceptor>();
            lease.Interceptors.Add<MemberCallInterceptor>();
            lease.Interceptors.Add<AdmissionInterceptor>();
        }).AddServiceOptions<AdminService>(admin => admin.Interceptors.Add<MemberCallInterceptor>())
          .AddServiceOptions<ReplicaService>(replica => replica.Interceptors.Add<MemberCallInterceptor>());
        // grpc.health.v1 on the gRPC port: for probes and load balancers, and for peers to tell a node
        // they cannot reach from one that answers.
        builder.Services.AddGrpcHealthChecks();
        // /health is ready (its group has a leader), /alive only that the process serves.
        // One instance (the check would be made anew for every probe): it logs each change of readiness once.
        builder.Services.AddSingleton<GroupReadiness>();
        builder.Services.AddHealthChecks().AddCheck<GroupReadiness>("raft-group", tags: [GroupReadiness.Tag]);
        // Server reflection: grpcurl and other generic tools list and call the API without the proto file.
        builder.Services.AddGrpcReflection();

        var dataDirectory = topology.DataDirectoryOf(node);
        var services = builder.Services;
        services.AddSingleton(topology);
        services.AddSingleton(options);
        services.AddSingleton(node);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<FailStop>();
        services.AddSingleton<NodeStartup>();
        services.AddSingleton(provider => provider.GetRequiredService<NodeStartup>().Recovered);
        services.AddSingleton(provider => provider.GetRequiredService<RecoveredState>().Events);
        services.AddSingleton<MemberCallInterceptor>();
        services.AddSingleton<TelemetryInterceptor>();
        services.AddSingleton<AdmissionInterceptor>();
        services.AddSingleton<PipelineQueues>();
        services.AddSingleton<NodeTelemetry>();
        services.AddSingleton<Snapshotter>();
        services.AddSingleton(provider => new LocalRing(topology, node, RingLayoutFile.In(dataDirectory), provider.GetRequiredService<NodeTelemetry>(),
            provider.GetRequiredService<ILogger<LocalRing>>()));
        services.AddSingleton<LayoutCatchUp>();
        services.AddSingleton<RangeMoves>();
        services.AddSingleton<RangeTransfer>();
        services.AddSingleton(provider => StartingClaim.In(provider.GetRequiredService<LocalRing>().Current.Layout, node.Position));
        services.AddSingleton<PeerClients>();
        services.AddSingleton<PeerReachability>();
        services.AddSingleton<Forwarder>();
        services.AddSingleton<PositionEvents>();
        services.AddSingleton<WriteProposer>();
        services.AddSingleton<LeaderHandOff>();
        services.AddSingleton<FollowerReads>();
        services.AddSingleton<ReplicationPath>();
        services.AddSingleton<RequestExecution>();
        services.AddSingleton<GroupStatus>();
        services.AddHostedService<GroupBaselines>();
        services.AddSingleton<LeaseDeadlines>();
        services.AddSingleton<LeaseReadiness>();
        services.AddHostedService(provider => provider.GetRequiredService<LeaseReadiness>());
        services.AddHostedService<LeaseKeeper>();
        services.AddSingleton<MoveDriver>();
        services.AddHostedService(provider => provider.GetRequiredService<MoveDriver>());
        // Started and stopped by Program.cs around the host (and so around Raft), not as hosted services.
        services.AddSingleton<ApplyWorker>();
        services.AddSingleton<LogWorker>();
        services.AddSingleton<SnapshotScheduler>();
        services.AddSingleton<PipelineWorkers>();
        services.AddSingleton(tls);
        var authentication = new PeerAuthentication(new ClusterSecret(builder.Configuration[ClusterSecret.Variable]), tls, group.MemberNames);
        services.AddSingleton(authentication);
        AddRaft(builder, group, identity, options, dataDirectory, authentication, tls);
        return builder;
    }

    /// <summary>
    /// This node's Raft group: the replicas of its position, at <paramref name="identity"/>'s address, with
    /// the membership and Raft's write-ahead log in <c>raft/</c> under the data directory. Raft is a hosted
    /// service: it starts and stops with the host, inside the pipeline's workers (see Program.cs).
    /// </summary>
    private static void AddRaft(WebApplicationBuilder builder, RaftGroup group, MemberIdentity identity, NodeOptions options, string dataDirectory,
        PeerAuthentication authentication, MemberTls tls)
    {
        // DotNext sends Raft messages through this named client: tuned sockets (RaftLinkSockets), TLS with
        // this node's certificate to a server that proves a member of the position, the cluster secret
        // when one is set, and a deadline for each message by its kind (RaftMessageDeadlines). (One client
        // for every member: the server's certificate is checked against the position, not against the one
        // member a connection was for.) No request logs: Raft talks many times a second.
        builder.Services.AddHttpClient(RaftClient)
            .ConfigurePrimaryHttpMessageHandler(() => tls.Secure(RaftLinkSockets.Handler(options), group.IsMemberName))
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .AddHttpMessageHandler(authentication.NewRaftMessageSigner)
            .AddHttpMessageHandler(() => new RaftMessageDeadlines(options));
        builder.Services
            .AddSingleton(group)
            .AddSingleton(identity)
            .AddSingleton<IClusterConfigurationStorage<UriEndPoint>>(new MemberListFile(Path.Combine(dataDirectory, "raft", MemberListFile.FileName)))
            .AddSingleton<CommittedOrder>()
            .AddSingleton<IStateMachine>(provider => provider.GetRequiredService<CommittedOrder>())
            .AddSingleton<ISnapshotStarter>(provider => provider.GetRequiredService<CommittedOrder>())
            .AddSingleton<IPersistentState>(provider => new DurableWriteAheadLog(new WriteAheadLog.Options
            {
                Location = RaftLogLocation.Prepare(dataDirectory),
                // The default page is 4 KiB, one open mapped file each: far too many files under load.
                ChunkSize = 1024 * 1024,
            }, provider.GetRequiredService<IStateMachine>(), provider.GetRequiredService<LogWorker>(), provider.GetRequiredService<RecoveredState>()))
            .AddSingleton<IAuditTrail<IRaftLogEntry>>(provider => provider.GetRequiredService<IPersistentState>())
            .ConfigureLocalNode(raft =>
            {
                raft.PublicEndPoint = identity.Address;
                raft.ClientHandlerName = RaftClient;
                // The first membership comes from the topology (MemberIdentity); none forms a group on its own.
                raft.ColdStart = false;
                raft.LowerElectionTimeout = (int)options.ElectionTimeout.TotalMilliseconds;
                raft.UpperElectionTimeout = (int)options.UpperElectionTimeout.TotalMilliseconds;
                // Each message's own deadline is RaftMessageDeadlines' (a snapshot's grows with its size); DotNext's is only the cap.
                raft.RequestTimeout = options.RaftSnapshotTimeoutCap;
                raft.RpcTimeout = options.RaftSnapshotTimeoutCap;
            });
        builder.Services.LogRaftTeardownsAsWarnings();
    }
}
