using Microsoft.Extensions.Logging;

namespace KvAspire.Node.Telemetry;

/// <summary>The node's log messages, defined once and logged without string building.</summary>
public static partial class NodeLog
{
    [LoggerMessage(1, LogLevel.Information, "Node {Node} (position {Position}, replica {Replica}) serving gRPC on {GrpcAddress}, health on {HttpAddress}, data in {DataDirectory}")]
    public static partial void Serving(ILogger logger, string node, int position, int replica, string grpcAddress, string httpAddress, string dataDirectory);

    [LoggerMessage(2, LogLevel.Information, "Recovered from {Path}: {Records} records replayed, {Keys} keys, last index {LastIndex}, in {ElapsedMs:F1} ms")]
    public static partial void Recovered(ILogger logger, string path, long records, int keys, long lastIndex, double elapsedMs);

    [LoggerMessage(3, LogLevel.Warning, "Torn tail in {Path} ({Reason}): cut off everything after byte {ValidLength}; those writes were never acknowledged")]
    public static partial void TornTailCut(ILogger logger, string path, string reason, long validLength);

    [LoggerMessage(4, LogLevel.Critical, "The operation log is corrupt; refusing to start rather than serve wrong data: {Reason}")]
    public static partial void LogCorrupt(ILogger logger, string reason);

    [LoggerMessage(6, LogLevel.Critical, "Cannot start: {Reason}")]
    public static partial void CannotStart(ILogger logger, string reason);

    [LoggerMessage(5, LogLevel.Critical, "Writing the operation log failed; stopping the node, no write after this is acknowledged")]
    public static partial void LogWriteFailed(ILogger logger, Exception exception);
}
