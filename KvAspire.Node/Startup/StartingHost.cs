using System.Text.Json;
using KvAspire.Cluster;
using KvAspire.Groups;
using KvAspire.Node.Peers;

namespace KvAspire.Node.Startup;

/// <summary>
/// What the node's ports answer from its first moment until its own host serves (Kestrel, on the sockets
/// of <see cref="NodePorts"/>): <c>/alive</c> 200, the process is up (a liveness probe keeps it);
/// <c>/health</c> 503 and every gRPC call UNAVAILABLE, each saying what the node is doing (a client goes to
/// another node); Raft messages 503. <c>/status</c> answers "starting, holding no writes" only for a node
/// that started with an empty data directory: replicas of a new group starting together each ask the
/// others whether the group holds writes, and each must hear it. A node with data does not answer it
/// before its log is replayed (what it holds is not known yet): the asker waits for another answer.
/// </summary>
public sealed class StartingHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile string _doing = "starting";
    private int _stopped;

    private StartingHost(WebApplication app) => _app = app;

    /// <summary>What the node is doing, as <c>/health</c> and gRPC calls say it.</summary>
    public string Doing
    {
        get => _doing;
        set => _doing = value;
    }

    public static async Task<StartingHost> StartAsync(NodeInfo node, NodePorts ports, MemberTls tls, bool dataDirectoryEmpty)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // No handler of SIGTERM here: stopped while it starts, the node exits at once, as a process does.
        builder.Services.AddSingleton<IHostLifetime, SignalsLeftToTheProcess>();
        builder.WebHost.ConfigureKestrel(kestrel => ports.ListenOn(kestrel, tls));
        var app = builder.Build();
        var host = new StartingHost(app);
        var starting = JsonSerializer.SerializeToUtf8Bytes(
            new GroupStatusReport(node.Name, node.Position, "starting", null, 0, 0, 0, "", [], HoldsWrites: false, CountsRevisions: true, KeepsLeases: true,
                ChecksOwnership: true),
            new JsonSerializerOptions(JsonSerializerDefaults.Web));
        app.Run(context =>
        {
            var response = context.Response;
            if (context.Connection.LocalPort == node.GrpcPort)
            {
                // A trailers-only answer: the call's status, with no message.
                response.ContentType = "application/grpc";
                response.Headers["grpc-status"] = "14";
                response.Headers["grpc-message"] = Uri.EscapeDataString($"{node.Name} is not serving yet: {host.Doing}");
                return Task.CompletedTask;
            }
            switch (context.Request.Path.Value)
            {
                case "/alive":
                    return response.WriteAsync($"alive, not serving yet: {host.Doing}");
                case GroupStatusClient.Path when dataDirectoryEmpty:
                    response.ContentType = "application/json";
                    return response.Body.WriteAsync(starting).AsTask();
                default:
                    response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                    return response.WriteAsync($"{node.Name} is not serving yet: {host.Doing}");
            }
        });
        await app.StartAsync();
        return host;
    }

    /// <summary>Stops answering (once); calls that arrive until the node's own host serves wait for it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
            return;
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A host lifetime that leaves signals alone (the console lifetime would take SIGTERM to stop this host only).</summary>
    private sealed class SignalsLeftToTheProcess : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
