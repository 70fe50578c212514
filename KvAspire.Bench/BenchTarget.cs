using Grpc.Core;
using KvAspire.Driver;
using dotnet_etcd;

namespace KvAspire.Bench;

/// <summary>
/// The store a benchmark drives: KvAspire through its client library, or etcd through its v3 API. Each
/// call answers the status it ended with (OK, or why not), never throws.
/// </summary>
public interface IBenchTarget : IDisposable
{
    Task<StatusCode> CreateAsync(string key, string value);

    Task<StatusCode> ReadAsync(string key);

    Task<StatusCode> UpdateAsync(string key, string value);
}

/// <summary>KvAspire as an app uses it: through <see cref="IKvClient"/>.</summary>
public sealed class KvAspireTarget(KvClient client) : IBenchTarget
{
    public Task<StatusCode> CreateAsync(string key, string value) => StatusOf(client.CreateAsync(key, value));

    public Task<StatusCode> ReadAsync(string key) => StatusOf(client.ReadAsync(key));

    public Task<StatusCode> UpdateAsync(string key, string value) => StatusOf(client.UpdateAsync(key, value));

    private static async Task<StatusCode> StatusOf(Task call)
    {
        try
        {
            await call;
            return StatusCode.OK;
        }
        catch (KvException e)
        {
            return e.Status;
        }
    }

    public void Dispose() => client.Dispose();
}

/// <summary>
/// One etcd member, for the same load side by side. Writes are puts; reads are etcd's default
/// linearizable range reads, the counterpart of KvAspire's reads.
/// </summary>
public sealed class EtcdTarget(string endpoint, TimeSpan timeout) : IBenchTarget
{
    private readonly EtcdClient _client = new(endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : $"http://{endpoint}");

    public Task<StatusCode> CreateAsync(string key, string value) => PutAsync(key, value);

    public Task<StatusCode> UpdateAsync(string key, string value) => PutAsync(key, value);

    public async Task<StatusCode> ReadAsync(string key)
    {
        try
        {
            var response = await _client.GetAsync(key, deadline: DateTime.UtcNow + timeout);
            return response.Kvs.Count == 0 ? StatusCode.NotFound : StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    private async Task<StatusCode> PutAsync(string key, string value)
    {
        try
        {
            await _client.PutAsync(key, value, deadline: DateTime.UtcNow + timeout);
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    public void Dispose() => _client.Dispose();
}
