using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KvAspire.Tests.Support;

/// <summary>
/// Hosts of a test's own: one network namespace per host, each with one veth link to a bridge in a
/// switch namespace, addresses from 198.18.0.0/15 that exist only there. Nothing outside these namespaces
/// is touched: the links are created from inside the switch namespace, and deleting a namespace deletes
/// its end of each link. The test process reaches the hosts as a client on the switch would: through
/// a loopback address per host whose ports it forwards over sockets opened inside the switch namespace
/// (<see cref="Forward"/>).
/// Disposing removes every namespace; names carry the test process's id, so a run that died is cleaned
/// up by the next one.
/// </summary>
public sealed class NetworkHosts : IAsyncDisposable
{
    private const string Prefix = "kvt";
    private const string Subnet = "198.18.0";

    /// <summary>Why this machine cannot run namespaced hosts (not root, no <c>ip</c>, …), or null when it can.</summary>
    public static string? WhyUnavailable { get; } = Probe();

    private readonly List<LoopbackForward> _forwards = [];
    private readonly HashSet<int> _filtered = [];
    private SwitchSockets? _sockets;

    private NetworkHosts(string switchNamespace, IReadOnlyList<string> namespaces, IReadOnlyList<string> addresses)
    {
        Switch = switchNamespace;
        Namespaces = namespaces;
        Addresses = addresses;
    }

    /// <summary>The namespace holding the bridge, where clients of the hosts run.</summary>
    public string Switch { get; }

    /// <summary>Host i's namespace.</summary>
    public IReadOnlyList<string> Namespaces { get; }

    /// <summary>Host i's address on the bridge.</summary>
    public IReadOnlyList<string> Addresses { get; }

    public static async Task<NetworkHosts> CreateAsync(int count)
    {
        if (WhyUnavailable is { } why)
            throw new InvalidOperationException(why);
        await RemoveLeftoversOfDeadRunsAsync();
        var run = $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
        var switchNamespace = $"{run}-sw";
        var namespaces = Enumerable.Range(0, count).Select(i => $"{run}-h{i}").ToList();
        var addresses = Enumerable.Range(0, count).Select(i => $"{Subnet}.{10 + i}").ToList();
        var hosts = new NetworkHosts(switchNamespace, namespaces, addresses);
        try
        {
            await IpAsync("netns", "add", switchNamespace);
            await IpAsync("-n", switchNamespace, "link", "set", "lo", "up");
            await IpAsync("-n", switchNamespace, "link", "add", "br0", "type", "bridge");
            await IpAsync("-n", switchNamespace, "addr", "add", $"{Subnet}.1/24", "dev", "br0");
            await IpAsync("-n", switchNamespace, "link", "set", "br0", "up");
            for (var i = 0; i < count; i++)
            {
                await IpAsync("netns", "add", namespaces[i]);
                await IpAsync("-n", namespaces[i], "link", "set", "lo", "up");
                // Both ends are made from inside the switch namespace: the machine's own never sees them.
                await IpAsync("-n", switchNamespace, "link", "add", $"v{i}", "type", "veth", "peer", "name", "eth0", "netns", namespaces[i]);
                await IpAsync("-n", switchNamespace, "link", "set", $"v{i}", "master", "br0", "up");
                await IpAsync("-n", namespaces[i], "addr", "add", $"{addresses[i]}/24", "dev", "eth0");
                await IpAsync("-n", namespaces[i], "link", "set", "eth0", "up");
            }
            hosts._sockets = new SwitchSockets(switchNamespace);
            return hosts;
        }
        catch
        {
            await hosts.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A loopback address of the test process (127.0.0.10 + <paramref name="host"/>) whose <paramref name="ports"/>
    /// lead to the same ports of host <paramref name="host"/> through the switch.
    /// </summary>
    public string Forward(int host, params int[] ports)
    {
        var loopback = IPAddress.Parse($"127.0.0.{10 + host}");
        foreach (var port in ports)
            _forwards.Add(new LoopbackForward(_sockets!, new IPEndPoint(loopback, port), new IPEndPoint(IPAddress.Parse(Addresses[host]), port)));
        return loopback.ToString();
    }

    /// <summary>Why links cannot be cut or degraded here (no nftables), or null when they can.</summary>
    public static string? WhyNoLinkFaults { get; } = WhyUnavailable ?? (File.Exists("/usr/sbin/nft") ? null : "nft is not installed (Debian: nftables)");

    /// <summary>Host <paramref name="from"/> no longer reaches host <paramref name="to"/>: its packets there are dropped (one direction).</summary>
    public Task CutAsync(int from, int to) => DropAsync(from, to, "drop");

    /// <summary>Host <paramref name="from"/>'s packets to host <paramref name="to"/> are dropped at random, <paramref name="percent"/> of them.</summary>
    public Task DegradeAsync(int from, int to, int percent) => DropAsync(from, to, "numgen", "random", "mod", "100", "<", $"{percent}", "drop");

    /// <summary>Every link into <paramref name="host"/> whole again.</summary>
    public async Task HealAsync(int host)
    {
        if (_filtered.Contains(host))
            await NftAsync(host, "flush", "chain", "inet", "kvtest", "in");
    }

    /// <summary>
    /// Packets are dropped where they arrive, as a faulty network loses them: one dropped on its way out
    /// is reported to the sender's TCP as a local failure, retried on a 200 ms timer that no network imposes.
    /// </summary>
    private async Task DropAsync(int from, int to, params string[] verdict)
    {
        if (WhyNoLinkFaults is { } why)
            throw new InvalidOperationException(why);
        if (_filtered.Add(to))
        {
            // A table of the host's own namespace; deleting the namespace deletes it.
            await NftAsync(to, "add", "table", "inet", "kvtest");
            await NftAsync(to, "add", "chain", "inet", "kvtest", "in", "{ type filter hook input priority 0; policy accept; }");
        }
        await NftAsync(to, ["add", "rule", "inet", "kvtest", "in", "ip", "saddr", Addresses[from], .. verdict]);
    }

    private Task NftAsync(int host, params string[] arguments) => IpAsync(["netns", "exec", Namespaces[host], "nft", .. arguments]);

    /// <summary>Namespaces of this machine that a run of these tests made (this one's included).</summary>
    public static async Task<IReadOnlyList<string>> ExistingAsync() =>
        (await IpAsync("netns", "list")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[0]).Where(name => name.StartsWith(Prefix, StringComparison.Ordinal)).ToList();

    public async ValueTask DisposeAsync()
    {
        foreach (var forward in _forwards)
            forward.Dispose();
        _sockets?.Dispose();
        foreach (var name in Namespaces.Append(Switch))
            await DeleteAsync(name);
    }

    private static async Task RemoveLeftoversOfDeadRunsAsync()
    {
        foreach (var name in await ExistingAsync())
        {
            var pid = int.TryParse(name[Prefix.Length..name.IndexOf('-')], out var p) ? p : 0;
            if (pid != Environment.ProcessId && !IsAlive(pid))
                await DeleteAsync(name);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static async Task DeleteAsync(string name)
    {
        if (File.Exists($"/var/run/netns/{name}"))
            await IpAsync("netns", "delete", name);
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
            return "network namespaces need Linux";
        if (!Environment.IsPrivilegedProcess)
            return "network namespaces need root (CI runs as root)";
        var probe = $"{Prefix}{Environment.ProcessId}-probe";
        try
        {
            IpAsync("netns", "add", probe).GetAwaiter().GetResult();
            IpAsync("netns", "delete", probe).GetAwaiter().GetResult();
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"cannot create a network namespace here: {e.Message}";
        }
    }

    private static async Task<string> IpAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)}: {(await errors).Trim()}");
        return await output;
    }

    /// <summary>
    /// Opens sockets inside the switch namespace: a socket belongs to the namespace of the thread that
    /// creates it, so one thread joins the namespace and creates them all; they are used from any thread.
    /// </summary>
    private sealed class SwitchSockets : IDisposable
    {
        private const int NewNetworkNamespace = 0x40000000;
        private readonly BlockingCollection<TaskCompletionSource<Socket>> _requests = new();

        public SwitchSockets(string name)
        {
            var joined = new TaskCompletionSource();
            new Thread(() => Serve(name, joined)) { IsBackground = true, Name = $"sockets in {name}" }.Start();
            joined.Task.GetAwaiter().GetResult();
        }

        public Task<Socket> CreateAsync()
        {
            var request = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
            _requests.Add(request);
            return request.Task;
        }

        private void Serve(string name, TaskCompletionSource joined)
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{name}");
                if (SetNamespace((int)handle.DangerousGetHandle(), NewNetworkNamespace) != 0)
                    throw new InvalidOperationException($"setns into {name} failed: errno {Marshal.GetLastPInvokeError()}");
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                joined.SetException(e);
                return;
            }
            joined.SetResult();
            foreach (var request in _requests.GetConsumingEnumerable())
                request.SetResult(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true });
        }

        [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
        private static extern int SetNamespace(int fd, int type);

        public void Dispose() => _requests.CompleteAdding();
    }

    /// <summary>Accepts on a loopback end point and relays each connection to the target through the switch.</summary>
    private sealed class LoopbackForward : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();

        public LoopbackForward(SwitchSockets sockets, IPEndPoint loopback, IPEndPoint target)
        {
            _listener = new TcpListener(loopback);
            _listener.Start();
            _ = AcceptAsync(sockets, target);
        }

        private async Task AcceptAsync(SwitchSockets sockets, IPEndPoint target)
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket accepted;
                try
                {
                    accepted = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }
                _ = RelayAsync(accepted, await sockets.CreateAsync(), target);
            }
        }

        private async Task RelayAsync(Socket accepted, Socket upstream, IPEndPoint target)
        {
            using (accepted)
            using (upstream)
            {
                try
                {
                    await upstream.ConnectAsync(target, _stop.Token);
                    await using var client = new NetworkStream(accepted, ownsSocket: false);
                    await using var server = new NetworkStream(upstream, ownsSocket: false);
                    await Task.WhenAny(client.CopyToAsync(server, _stop.Token), server.CopyToAsync(client, _stop.Token));
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or IOException)
                {
                    // The host is down or cut off: the caller sees its connection close, as over a network.
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
