namespace KvAspire.Tests.Support;

/// <summary>
/// Every node of a test topology as a real process on loopback, each of which can be stopped (SIGTERM),
/// killed (kill -9), paused (SIGSTOP) and resumed, and started again.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly Dictionary<string, NodeProcess?> _processes;
    private readonly IReadOnlyDictionary<string, string>? _environment;

    private LocalCluster(TestTopology topology, IEnumerable<NodeProcess> processes, IReadOnlyDictionary<string, string>? environment)
    {
        Topology = topology;
        _environment = environment;
        _processes = topology.Nodes.Zip(processes).ToDictionary(p => p.First.Name, p => (NodeProcess?)p.Second);
    }

    public TestTopology Topology { get; }

    /// <summary>
    /// Starts every node at once, with <paramref name="environment"/> added to each (and to each restart),
    /// and returns when each is healthy and its group has a leader.
    /// </summary>
    public static async Task<LocalCluster> StartAsync(TestTopology topology, IReadOnlyDictionary<string, string>? environment = null)
    {
        var cluster = new LocalCluster(topology, await StartAllAsync(topology, topology.Nodes, environment), environment);
        try
        {
            foreach (var position in topology.Nodes.Select(n => n.Position).Distinct())
                await cluster.WaitForLeaderAsync(position, TimeSpan.FromSeconds(30));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private static Task<NodeProcess[]> StartAllAsync(TestTopology topology, IReadOnlyList<TestNode> nodes, IReadOnlyDictionary<string, string>? environment) =>
        StartAllAsync(topology, nodes, _ => environment);

    /// <summary>Starts the nodes at once; when one fails to, the others are stopped too (no process outlives the test).</summary>
    public static async Task<NodeProcess[]> StartAllAsync(TestTopology topology, IReadOnlyList<TestNode> nodes,
        Func<TestNode, IReadOnlyDictionary<string, string>?> environmentOf)
    {
        var starting = nodes.Select(n => NodeProcess.StartAsync(topology, n, environmentOf(n))).ToList();
        try
        {
            return await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
                await started.Result.DisposeAsync();
            throw;
        }
    }

    public string OutputOf(TestNode node) => _processes[node.Name]?.Output ?? "(not running)";

    /// <summary>What the running nodes logged at Error or Critical, each entry named by its node.</summary>
    public IEnumerable<string> LoggedErrors() =>
        _processes.Where(p => p.Value is not null).SelectMany(p => p.Value!.LoggedErrors().Select(entry => $"{p.Key}: {entry}"));

    /// <summary>SIGTERM; returns the node's exit code.</summary>
    public async Task<int> StopAsync(TestNode node)
    {
        await using var process = Take(node);
        return await process.StopAsync();
    }

    public async Task KillAsync(TestNode node)
    {
        await using var process = Take(node);
        await process.KillAsync();
    }

    /// <summary>Whether <paramref name="node"/>, running, logged event <paramref name="eventId"/> (<see cref="NodeProcess.LoggedEvent"/>).</summary>
    public bool LoggedEvent(TestNode node, int eventId) => Running(node).LoggedEvent(eventId);

    /// <summary>Waits until every node logged that its group's first claim was applied (event 39): the ring serves by claims from then.</summary>
    public Task WaitForClaimsAsync() =>
        Wait.UntilAsync(() => Topology.Nodes.All(n => LoggedEvent(n, 39)), TimeSpan.FromSeconds(30), "every group's first claim");

    public Task PauseAsync(TestNode node) => Running(node).PauseAsync();

    public int ProcessIdOf(TestNode node) => Running(node).ProcessId;

    public Task ResumeAsync(TestNode node) => Running(node).ResumeAsync();

    private NodeProcess Running(TestNode node) =>
        _processes[node.Name] ?? throw new InvalidOperationException($"{node.Name} is not running");

    public async Task StartAsync(TestNode node)
    {
        if (_processes[node.Name] is not null)
            throw new InvalidOperationException($"{node.Name} is already running");
        _processes[node.Name] = await NodeProcess.StartAsync(Topology, node, _environment);
    }

    /// <summary>Starts several stopped nodes at once (a group needs two up to elect); returns when each is healthy.</summary>
    public async Task StartAsync(IReadOnlyList<TestNode> nodes)
    {
        if (nodes.FirstOrDefault(n => _processes[n.Name] is not null) is { } running)
            throw new InvalidOperationException($"{running.Name} is already running");
        var started = await StartAllAsync(Topology, nodes, _environment);
        foreach (var (node, process) in nodes.Zip(started))
            _processes[node.Name] = process;
    }

    public Task<TestNode> WaitForLeaderAsync(int position, TimeSpan timeout) =>
        GroupProbe.WaitForLeaderAsync(Topology.ReplicasOf(position), timeout);

    public async Task WaitCaughtUpAsync(TestNode node, TimeSpan timeout)
    {
        try
        {
            await GroupProbe.WaitCaughtUpAsync(node, Topology.ReplicasOf(node.Position), timeout);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}:{Environment.NewLine}{OutputOf(node)}", e);
        }
    }

    private NodeProcess Take(TestNode node)
    {
        var process = Running(node);
        _processes[node.Name] = null;
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes.Values.OfType<NodeProcess>())
            await process.DisposeAsync();
    }
}
