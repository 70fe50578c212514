using KvAspire.Node.Configuration;

namespace KvAspire.Node.Peers;

/// <summary>
/// How long each outgoing Raft message may take, by kind. DotNext's HTTP transport has one timeout for all
/// of them, and its default (half an election) is right for votes and appends but cuts off a snapshot of
/// tens of MB while the follower is still installing it; the follower then keeps it, and DotNext's follower
/// answers every resend of a snapshot it already holds with neither success nor a refresh of its election
/// timer, so it stood for election every second until its leader took a newer snapshot (20 s and more,
/// docs/reliability.md). So DotNext's own timeout is set to <see cref="NodeOptions.RaftSnapshotTimeoutCap"/>
/// and this handler, in front of every Raft message, gives each its own deadline:
/// <see cref="NodeOptions.RaftMessageTimeout"/>, or for a snapshot <see cref="NodeOptions.SnapshotSendTimeout"/>
/// of its size. A deadline that passes fails the message as DotNext's own did: the member counts as unavailable.
/// </summary>
public sealed class RaftMessageDeadlines(NodeOptions options) : DelegatingHandler
{
    // DotNext's names on the wire (Raft over HTTP): the header that says a message's kind, and a snapshot's.
    private const string MessageTypeHeader = "X-Raft-Message-Type";
    private const string InstallSnapshot = "InstallSnapshot";

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(DeadlineOf(request));
        return await base.SendAsync(request, deadline.Token);
    }

    private TimeSpan DeadlineOf(HttpRequestMessage request) =>
        request.Headers.TryGetValues(MessageTypeHeader, out var kinds) && kinds.Contains(InstallSnapshot)
            ? options.SnapshotSendTimeout(request.Content?.Headers.ContentLength)
            : options.RaftMessageTimeout;
}
