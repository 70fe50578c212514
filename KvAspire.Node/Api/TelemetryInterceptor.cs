using Grpc.Core;
using Grpc.Core.Interceptors;
using KvAspire.Node.Telemetry;

namespace KvAspire.Node.Api;

/// <summary>
/// Owns the per-request metrics of the public API: every call's operation, outcome (its gRPC status)
/// and time from arrival to answer, whichever way it ends.
/// </summary>
public sealed class TelemetryInterceptor(NodeTelemetry telemetry, TimeProvider clock) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var started = clock.GetTimestamp();
        var status = StatusCode.Unknown;
        try
        {
            var response = await continuation(request, context);
            status = StatusCode.OK;
            return response;
        }
        catch (RpcException e)
        {
            status = e.StatusCode;
            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            status = StatusCode.Cancelled;
            throw;
        }
        finally
        {
            telemetry.RecordOperation(OperationOf(context.Method), status, clock.GetElapsedTime(started));
        }
    }

    /// <summary>"/kvaspire.v1.KeyValue/Create" → "create".</summary>
    private static string OperationOf(string method) => method[(method.LastIndexOf('/') + 1)..].ToLowerInvariant();
}
