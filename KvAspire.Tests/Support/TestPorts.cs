using System.Net;
using System.Net.Sockets;

namespace KvAspire.Tests.Support;

/// <summary>Loopback ports for the nodes and listeners that tests start, without races between tests.</summary>
public static class TestPorts
{
    // Ports come from below the kernel's ephemeral range (32768–60999 on Linux), each handed out once
    // per test run: test classes run in parallel, and a port found free by binding port 0 and released
    // could be handed to another class, or to an outgoing connection, before the node binds it. The start
    // depends on the process id so that two runs side by side rarely meet.
    private const int FirstPort = 20000, PortsAvailable = 12000;
    private static int _portsHandedOut = Environment.ProcessId % 8 * (PortsAvailable / 8);

    /// <summary><paramref name="count"/> ports free now and handed to nothing else in this run.</summary>
    public static int[] Take(int count)
    {
        var ports = new List<int>(count);
        while (ports.Count < count)
        {
            var port = FirstPort + Interlocked.Increment(ref _portsHandedOut) % PortsAvailable;
            if (IsFree(port))
                ports.Add(port); // else held by something outside this run: skip it
        }
        return [.. ports];
    }

    private static bool IsFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }
}
