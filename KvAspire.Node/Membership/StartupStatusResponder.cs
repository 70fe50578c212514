using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using KvAspire.Cluster;
using KvAspire.Groups;

namespace KvAspire.Node.Membership;

/// <summary>
/// While a node with an empty data directory asks its peers whether their group holds writes (before its
/// own server runs), it answers the same question on its RaftPort: "starting, holding no writes". Without
/// it, replicas starting empty together would each wait for another to answer.
/// </summary>
public sealed class StartupStatusResponder : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly byte[] _status;
    private readonly byte[] _starting;
    private readonly Task _serving;
    private readonly TimeSpan _answerTimeout;

    public StartupStatusResponder(NodeInfo self, TimeSpan answerTimeout)
    {
        _answerTimeout = answerTimeout;
        var address = IPAddress.TryParse(self.BindAddress, out var ip) ? ip
            : string.Equals(self.BindAddress, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback : IPAddress.Any;
        var report = JsonSerializer.SerializeToUtf8Bytes(new GroupStatusReport(self.Name, self.Position, "starting", null, 0, 0, 0, "", [], HoldsWrites: false, CountsRevisions: true, KeepsLeases: true),
            new JsonSerializerOptions(JsonSerializerDefaults.Web));
        _status = Response("200 OK", "application/json", report);
        _starting = Response("503 Service Unavailable", "text/plain", "starting: not serving yet"u8.ToArray());
        _listener = new TcpListener(address, self.RaftPort);
        _listener.Start();
        _serving = ServeAsync();
    }

    private static byte[] Response(string status, string type, byte[] body) =>
        [.. Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Type: {type}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"), .. body];

    private async Task ServeAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = AnswerAsync(socket);
        }
    }

    /// <summary>Reads the request's head; <c>GET /status</c> gets the report, anything else (health included) 503.</summary>
    private async Task AnswerAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                var buffer = new byte[4096];
                var read = 0;
                using var timeout = new CancellationTokenSource(_answerTimeout);
                while (read < buffer.Length && !buffer.AsSpan(0, read).EndsWith("\r\n\r\n"u8))
                {
                    var n = await socket.ReceiveAsync(buffer.AsMemory(read), timeout.Token);
                    if (n == 0)
                        return;
                    read += n;
                }
                var asksStatus = buffer.AsSpan(0, read).StartsWith(Encoding.ASCII.GetBytes($"GET {GroupStatusClient.Path} "));
                await socket.SendAsync(asksStatus ? _status : _starting, timeout.Token);
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _serving;
    }
}
