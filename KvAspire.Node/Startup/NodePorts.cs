using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using KvAspire.Cluster;
using KvAspire.Node.Peers;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KvAspire.Node.Startup;

/// <summary>
/// The node's two ports, bound and listening from the process's first moment, before it knows who it is
/// or has replayed its log. The host that answers while it starts (<see cref="StartingHost"/>) and the
/// node's own host are each given a copy of the same sockets (<see cref="Handles"/>): between the first
/// stopping and the second starting, connections wait in the sockets' backlog, and none is refused.
/// </summary>
public sealed partial class NodePorts : IDisposable
{
    private const int Backlog = 512;

    private NodePorts(IReadOnlyList<Socket> grpc, IReadOnlyList<Socket> raft) => (Grpc, Raft) = (grpc, raft);

    /// <summary>The gRPC port's sockets (one per address family bound).</summary>
    public IReadOnlyList<Socket> Grpc { get; }

    /// <summary>The Raft, health and status port's sockets.</summary>
    public IReadOnlyList<Socket> Raft { get; }

    /// <summary>
    /// Binds <paramref name="node"/>'s ports as Kestrel would: an IP address there, <c>localhost</c> on
    /// loopback (IPv4, and IPv6 where the machine has it), <c>*</c> or a host name on every interface.
    /// </summary>
    /// <exception cref="SocketException">A port is taken, or the address is not this machine's.</exception>
    public static NodePorts Bind(NodeInfo node)
    {
        var grpc = BindPort(node.BindAddress, node.GrpcPort);
        try
        {
            return new NodePorts(grpc, BindPort(node.BindAddress, node.RaftPort));
        }
        catch
        {
            foreach (var socket in grpc)
                socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Gives <paramref name="kestrel"/> its own descriptors of both ports: gRPC over HTTP/2, and HTTP/1.1 on
    /// the Raft port (<paramref name="raft"/> configures that one further), both over TLS when the cluster has it.
    /// </summary>
    public void ListenOn(KestrelServerOptions kestrel, MemberTls tls, Action<ListenOptions>? raft = null)
    {
        foreach (var handle in Handles(Grpc))
        {
            kestrel.ListenHandle(handle, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                tls.Serve(listen);
            });
        }
        foreach (var handle in Handles(Raft))
        {
            kestrel.ListenHandle(handle, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                // The socket tuned first, under TLS.
                raft?.Invoke(listen);
                tls.Serve(listen);
            });
        }
    }

    /// <summary>
    /// A new descriptor for each of <paramref name="sockets"/>, for Kestrel's <c>ListenHandle</c>: a host
    /// closes the descriptors it was given as it stops, and the sockets stay open through the others.
    /// </summary>
    private static IEnumerable<ulong> Handles(IReadOnlyList<Socket> sockets) =>
        sockets.Select(socket =>
        {
            var copy = Duplicate((int)socket.SafeHandle.DangerousGetHandle());
            return copy >= 0 ? (ulong)copy : throw new SocketException(Marshal.GetLastPInvokeError());
        }).ToList();

    private static List<Socket> BindPort(string host, int port)
    {
        if (IPAddress.TryParse(host, out var address))
            return [Listen(address, port)];
        if (!string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            return [Socket.OSSupportsIPv6 ? Listen(IPAddress.IPv6Any, port, dualMode: true) : Listen(IPAddress.Any, port)];
        var sockets = new List<Socket> { Listen(IPAddress.Loopback, port) };
        if (Socket.OSSupportsIPv6)
        {
            try
            {
                sockets.Add(Listen(IPAddress.IPv6Loopback, port));
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported)
            {
                // A machine without IPv6 loopback: IPv4 alone, as Kestrel's ListenLocalhost does.
            }
        }
        return sockets;
    }

    private static Socket Listen(IPAddress address, int port, bool dualMode = false)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (dualMode)
                socket.DualMode = true;
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(Backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static partial int Duplicate(int descriptor);

    public void Dispose()
    {
        foreach (var socket in Grpc.Concat(Raft))
            socket.Dispose();
    }
}
