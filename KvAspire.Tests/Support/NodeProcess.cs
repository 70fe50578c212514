using System.Collections.Concurrent;
using System.Diagnostics;

namespace KvAspire.Tests.Support;

/// <summary>A real node process started from the built node, its output kept for failure messages.</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private NodeProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>
    /// Whether the node logged event <paramref name="eventId"/> (the ids of <c>Telemetry/NodeLog.cs</c>):
    /// the console shows each entry's level, category and id, as <c>warn: KvAspire.Node.Recovery[3]</c>.
    /// </summary>
    public bool LoggedEvent(int eventId) =>
        _output.Any(line => System.Text.RegularExpressions.Regex.IsMatch(line, $@"^(trce|dbug|info|warn|fail|crit): KvAspire\.[\w.]+\[{eventId}\]"));

    /// <summary>
    /// Each entry the node logged at Error or Critical, with the lines that continue it (its message and
    /// exception, indented by the console logger).
    /// </summary>
    public IReadOnlyList<string> LoggedErrors()
    {
        var entries = new List<string>();
        System.Text.StringBuilder? entry = null;
        foreach (var line in _output)
        {
            if (line.StartsWith("fail: ", StringComparison.Ordinal) || line.StartsWith("crit: ", StringComparison.Ordinal))
            {
                if (entry is not null)
                    entries.Add(entry.ToString());
                entry = new System.Text.StringBuilder(line);
            }
            else if (entry is not null && line.StartsWith(' '))
            {
                entry.AppendLine().Append(line);
            }
            else if (entry is not null)
            {
                entries.Add(entry.ToString());
                entry = null;
            }
        }
        if (entry is not null)
            entries.Add(entry.ToString());
        return entries;
    }

    public bool HasExited => _process.HasExited;

    public int ProcessId => _process.Id;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts the node (inside <paramref name="networkNamespace"/>, when given) without waiting for it to serve.</summary>
    public static NodeProcess Launch(string clusterPath, string nodeName, IReadOnlyDictionary<string, string>? environment = null,
        string? networkNamespace = null, IEnumerable<string>? arguments = null)
    {
        var start = DotnetCommand.StartInfo([Paths.NodeDll, "--cluster", clusterPath, "--node", nodeName, .. arguments ?? []], networkNamespace);
        // The suite starts hundreds of short-lived nodes: the runtime's quick first compilation starts each
        // about 0.7 s sooner than the node's own setting (full optimisation at once, for serving). What a
        // test checks does not depend on how the code was compiled.
        start.Environment["DOTNET_TC_QuickJit"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        return new NodeProcess(Process.Start(start)!);
    }

    /// <summary>Starts a node (the first one by default) and returns once it serves; kills it if it never does.</summary>
    public static async Task<NodeProcess> StartAsync(TestTopology topology, TestNode? node = null, IReadOnlyDictionary<string, string>? environment = null,
        IEnumerable<string>? arguments = null)
    {
        node ??= topology.Nodes[0];
        var process = Launch(topology.Path, node.Name, environment, node.Namespace, arguments);
        try
        {
            await process.WaitServingAsync(node, TimeSpan.FromSeconds(60));
            return process;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Until the node serves: its own host answers <c>/status</c> with its role in its group. (Its ports
    /// answer from its first moment, <c>/alive</c> included, but until then only to say it is starting.)
    /// </summary>
    public async Task WaitServingAsync(TestNode node, TimeSpan timeout)
    {
        try
        {
            await Wait.UntilAsync(async () =>
            {
                if (_process.HasExited)
                    throw new InvalidOperationException($"the node exited with code {_process.ExitCode}:{Environment.NewLine}{Output}");
                return await GroupProbe.StatusAsync(node) is { Role: not "starting" };
            }, timeout, "the node to serve", TimeSpan.FromMilliseconds(100));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}:{Environment.NewLine}{Output}", e);
        }
    }

    /// <summary>Waits for the process to end by itself (a refused start, say).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as Aspire and service managers stop a process; returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        await SignalAsync("-TERM");
        return await WaitForExitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>SIGSTOP: the process freezes, its connections stay open and unanswered.</summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT: the process goes on where it stopped.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process.Id.ToString()]);
        await kill.WaitForExitAsync();
    }

    /// <summary>kill -9: no shutdown code runs, as in a crash.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited)
            return;
        _process.Kill(entireProcessTree: true);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cancel.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
