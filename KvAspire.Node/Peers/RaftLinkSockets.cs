using System.Net.Sockets;
using KvAspire.Node.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace KvAspire.Node.Peers;

/// <summary>
/// The sockets Raft talks over, both ends: a lost packet is sent again after milliseconds, not 200.
/// DotNext has one request at a time in flight to each follower, so a lost last packet of a request or
/// its answer (often the only one in flight) waits for the kernel's retransmission timer, which Linux
/// never lets go below 200 ms — 200 times the round trip on a local network, and with two followers
/// stalled that way in turn, commits stop (measured: 5 % loss cut writes from 3,000/s to 400/s). A
/// streaming transport hides this by always having packets in flight; here the floor is lowered per
/// socket instead (<c>TCP_RTO_MIN_US</c>, Linux 6.15 and later). The timer still adapts to the measured
/// round trip, so a slow network keeps its longer timeout; where the option is unknown, nothing changes.
/// </summary>
public static class RaftLinkSockets
{
    private const int IpProtoTcp = 6;
    private const int TcpRtoMinUs = 45; // include/uapi/linux/tcp.h

    /// <summary>Lowers the socket's retransmission floor to <paramref name="floor"/> where the kernel allows it.</summary>
    public static void Tune(Socket socket, TimeSpan floor)
    {
        if (!OperatingSystem.IsLinux())
            return;
        try
        {
            socket.SetRawSocketOption(IpProtoTcp, TcpRtoMinUs, BitConverter.GetBytes((int)(floor.Ticks / TimeSpan.TicksPerMicrosecond)));
        }
        catch (SocketException)
        {
            // An older kernel: its 200 ms floor stays.
        }
    }

    /// <summary>A handler for Raft's outgoing requests whose connections are tuned.</summary>
    public static SocketsHttpHandler Handler(NodeOptions options) => new()
    {
        ConnectTimeout = options.RaftConnectTimeout,
        ConnectCallback = async (context, token) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                Tune(socket, options.RaftRetransmitFloor);
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    /// <summary>Tunes each connection accepted on the Raft port, the side that answers.</summary>
    public static IConnectionBuilder UseTunedSockets(this IConnectionBuilder connections, TimeSpan floor) =>
        connections.Use(next => context =>
        {
            if (context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
                Tune(socket, floor);
            return next(context);
        });
}
