using System.Text;
using Grpc.Core;
using KvAspire.Driver.Transport;
using KvAspire.Operations;
using dotnet_etcd;

namespace KvAspire.Bench;

/// <summary>The store a benchmark drives: KvAspire through its public API, or etcd through its v3 API.</summary>
public interface IBenchTarget : IDisposable
{
    Task<Reply> CreateAsync(string key, string value);

    Task<Reply> ReadAsync(string key);

    Task<Reply> UpdateAsync(string key, string value);
}

public sealed class KvAspireTarget(KvConnection connection) : IBenchTarget
{
    public Task<Reply> CreateAsync(string key, string value) => connection.ExecuteAsync(new KvOperation(OperationKind.Create, key, Encoding.UTF8.GetBytes(value)));

    public Task<Reply> ReadAsync(string key) => connection.ExecuteAsync(new KvOperation(OperationKind.Read, key));

    public Task<Reply> UpdateAsync(string key, string value) => connection.ExecuteAsync(new KvOperation(OperationKind.Update, key, Encoding.UTF8.GetBytes(value)));

    public void Dispose() => connection.Dispose();
}

/// <summary>
/// One etcd member, for the same load side by side. Writes are puts; reads are etcd's default
/// linearizable range reads, the counterpart of KvAspire's reads.
/// </summary>
public sealed class EtcdTarget(string endpoint, TimeSpan timeout) : IBenchTarget
{
    private readonly EtcdClient _client = new(endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : $"http://{endpoint}");

    public Task<Reply> CreateAsync(string key, string value) => PutAsync(key, value);

    public Task<Reply> UpdateAsync(string key, string value) => PutAsync(key, value);

    public async Task<Reply> ReadAsync(string key)
    {
        try
        {
            var response = await _client.GetAsync(key, deadline: DateTime.UtcNow + timeout);
            return response.Kvs.Count == 0
                ? new Reply(StatusCode.NotFound, Error: $"key '{key}' not found", Node: endpoint)
                : new Reply(StatusCode.OK, Value: response.Kvs[0].Value.Memory, Version: response.Kvs[0].Version, Node: endpoint);
        }
        catch (RpcException e)
        {
            return new Reply(e.StatusCode, Error: e.Status.Detail, Node: endpoint);
        }
    }

    private async Task<Reply> PutAsync(string key, string value)
    {
        try
        {
            await _client.PutAsync(key, value, deadline: DateTime.UtcNow + timeout);
            return new Reply(StatusCode.OK, Node: endpoint);
        }
        catch (RpcException e)
        {
            return new Reply(e.StatusCode, Error: e.Status.Detail, Node: endpoint);
        }
    }

    public void Dispose() => _client.Dispose();
}
