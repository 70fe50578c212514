namespace KvAspire.Operations;

/// <summary>
/// What a caller gets back for an operation: the map's result, the ring hops it took (server-to-server
/// forwards) and, when known, the gRPC endpoint of the leader that executed it (the
/// <see cref="KvAspire.Groups.LeaderHint"/> trailer).
/// </summary>
public readonly record struct Answer(OperationResult Result, int Hops, string? Leader);
