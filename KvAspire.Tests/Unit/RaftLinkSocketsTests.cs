using System.Net;
using System.Net.Sockets;
using KvAspire.Node.Configuration;
using KvAspire.Node.Peers;

namespace KvAspire.Tests.Unit;

/// <summary>
/// Raft's sockets ask the kernel to resend a lost packet after milliseconds (<c>TCP_RTO_MIN_US</c>,
/// Linux 6.15 and later), both the connecting side and the sockets a listener accepts.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RaftLinkSocketsTests
{
    private const int IpProtoTcp = 6;
    private const int TcpRtoMinUs = 45;

    /// <summary>The floor the kernel keeps (rounded up to its clock tick), or null where it has no such option.</summary>
    private static TimeSpan? Floor(Socket socket)
    {
        var value = new byte[4];
        try
        {
            socket.GetRawSocketOption(IpProtoTcp, TcpRtoMinUs, value);
        }
        catch (SocketException)
        {
            return null;
        }
        return TimeSpan.FromMicroseconds(BitConverter.ToInt32(value));
    }

    /// <summary>Skipped, saying why, where the kernel cannot lower the floor.</summary>
    private sealed class KernelLowersTheFloorFactAttribute : FactAttribute
    {
        public KernelLowersTheFloorFactAttribute()
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            if (Floor(socket) is null)
                Skip = "this kernel has no TCP_RTO_MIN_US (Linux 6.15 and later): its 200 ms floor stays";
        }
    }

    private static readonly TimeSpan RetransmitFloor = new NodeOptions { ElectionTimeout = TimeSpan.FromMilliseconds(600), AdmittedRequests = 1 }.RaftRetransmitFloor;

    [KernelLowersTheFloorFact]
    public async Task A_tuned_socket_and_the_connections_it_accepts_resend_after_milliseconds_not_200()
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        var untuned = Floor(listener);
        RaftLinkSockets.Tune(listener, RetransmitFloor);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        RaftLinkSockets.Tune(client, RetransmitFloor);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();

        Assert.Equal(TimeSpan.FromMilliseconds(200), untuned);
        foreach (var socket in new[] { client, accepted })
            Assert.InRange(Floor(socket)!.Value, RetransmitFloor, 2 * RetransmitFloor);
    }
}
