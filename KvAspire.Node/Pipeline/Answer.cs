using KvAspire.Operations;

namespace KvAspire.Node.Pipeline;

/// <summary>
/// What a request's handler gets back from the path that executed it: the map's result, the ring hops
/// it took (server-to-server forwards) and, when known, the gRPC address of the leader that executed it
/// (sent to the client as a <see cref="KvAspire.Groups.LeaderHint"/>).
/// </summary>
public readonly record struct Answer(OperationResult Result, int Hops, string? Leader);
