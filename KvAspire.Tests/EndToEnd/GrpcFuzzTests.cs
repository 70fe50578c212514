using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using KvAspire.Tests.Support;
using KvAspire.V1;
using Xunit.Abstractions;

namespace KvAspire.Tests.EndToEnd;

/// <summary>
/// Hostile input for every method of the public API, over real gRPC to a real node, as raw bytes so that
/// nothing on the client side tidies it. First, requests built from random and boundary keys, values,
/// versions and request ids, some with unknown fields added or invalid UTF-8 in place of the key, each
/// answered exactly as a model of the store says (bad input: INVALID_ARGUMENT, and nothing changes).
/// Then random bytes to each method: only clear answers, never UNKNOWN or INTERNAL, no hang, and none
/// of the keys of the first part changes. Fixed seeds; 10,000 inputs in each part and to each method.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class GrpcFuzzTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int MaxValueBytes = 100;
    private const int Workers = 4;
    private const int ModelInputs = 10_000;
    private const int GarbageInputsPerMethod = 10_000;

    private static readonly string[] Methods = ["Create", "Read", "Update", "Delete"];

    private SingleNode _node = null!;
    private GrpcChannel _channel = null!;
    private CallInvoker _invoker = null!;

    public async Task InitializeAsync()
    {
        _node = await SingleNode.StartAsync(MaxValueBytes);
        _channel = GrpcChannel.ForAddress($"http://{_node.Topology.GrpcEndPoint}");
        _invoker = _channel.CreateCallInvoker();
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _node.DisposeAsync();
    }

    [Fact]
    public async Task Random_requests_get_the_answers_of_the_model_and_random_bytes_only_clear_errors()
    {
        var models = await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => RunModelAsync(w, ModelInputs / Workers)));
        output.WriteLine($"model part: {ModelInputs} requests, answers by status: {Summary(models.SelectMany(m => m.Statuses))}");

        var garbage = await Task.WhenAll(Methods.Select(RunGarbageAsync));
        output.WriteLine($"random bytes: {GarbageInputsPerMethod} to each of {string.Join(", ", Methods)}; answers by status: {Summary(garbage.SelectMany(g => g))}");

        // The random bytes changed none of the model's keys, and the node still answers.
        foreach (var model in models)
            await model.VerifyAsync();
    }

    private async Task<Model> RunModelAsync(int worker, int inputs)
    {
        var random = new Random(7200 + worker);
        var model = new Model(this, worker);
        for (var input = 0; input < inputs; input++)
            await model.StepAsync(random, input);
        return model;
    }

    private async Task<Dictionary<StatusCode, int>> RunGarbageAsync(string method)
    {
        var random = new Random(7300 + Array.IndexOf(Methods, method));
        var statuses = new Dictionary<StatusCode, int>();
        for (var input = 0; input < GarbageInputsPerMethod; input++)
        {
            // A few messages over the node's 4 MiB limit, the rest short random bytes.
            var bytes = new byte[input % 2500 == 0 ? 5 * 1024 * 1024 : random.Next(0, 64)];
            random.NextBytes(bytes);
            var (status, _) = await CallAsync(method, bytes);
            var allowed = bytes.Length > 4 * 1024 * 1024
                ? status == StatusCode.ResourceExhausted
                : status is StatusCode.OK or StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.AlreadyExists
                    or StatusCode.FailedPrecondition or StatusCode.Aborted;
            Assert.True(allowed, $"{method} of {bytes.Length} random bytes ({Convert.ToHexString(bytes.AsSpan(0, Math.Min(bytes.Length, 64)))}): {status}");
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
        }
        return statuses;
    }

    private async Task<(StatusCode Status, byte[] Reply)> CallAsync(string method, byte[] request)
    {
        var call = new Method<byte[], byte[]>(MethodType.Unary, "kvaspire.v1.KeyValue", method,
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        try
        {
            var reply = await _invoker.AsyncUnaryCall(call, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), request);
            return (StatusCode.OK, reply);
        }
        catch (RpcException e)
        {
            return (e.StatusCode, []);
        }
    }

    private static string Summary(IEnumerable<KeyValuePair<StatusCode, int>> counts) =>
        string.Join(", ", counts.GroupBy(c => c.Key).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Sum(c => c.Value)}"));

    /// <summary>One worker's keys and what the store must hold for them.</summary>
    private sealed class Model(GrpcFuzzTests test, int worker)
    {
        private readonly Dictionary<string, (byte[] Value, long Version)> _state = new(StringComparer.Ordinal);
        private readonly string _clientId = $"fuzz-{worker}";
        private ulong _sequence;
        private (string Method, byte[] Request, StatusCode Status, byte[] Reply)? _lastWrite;

        public Dictionary<StatusCode, int> Statuses { get; } = [];

        private string[] Keys =>
        [
            $"w{worker}", $"w{worker}-ключ-🔑", $"w{worker}\0nul\u0001",
            $"w{worker}" + new string('x', 1022), $"w{worker}" + new string('é', 511),
        ];

        private string[] BadKeys => ["", $"w{worker}" + new string('x', 1023), $"w{worker}" + new string('é', 512)];

        public async Task StepAsync(Random random, int input)
        {
            // A retry of the last write, with its request id: the same answer, nothing applied twice.
            if (_lastWrite is { } last && random.Next(20) == 0)
            {
                var (retryStatus, retryReply) = await test.CallAsync(last.Method, last.Request);
                Assert.True((retryStatus, Convert.ToHexString(retryReply)) == (last.Status, Convert.ToHexString(last.Reply)),
                    $"input {input}: retried {last.Method} answered {retryStatus}, first {last.Status}");
                Count(retryStatus);
                return;
            }

            var method = Methods[random.Next(Methods.Length)];
            var badKey = random.Next(12) == 0;
            var key = badKey ? BadKeys[random.Next(BadKeys.Length)] : Keys[random.Next(Keys.Length)];
            var value = new byte[random.Next(8) == 0 ? MaxValueBytes + random.Next(0, 2) : random.Next(0, 20)];
            random.NextBytes(value);
            var stored = _state.TryGetValue(key, out var current) ? current.Version : 0;
            long? version = random.Next(6) switch
            {
                0 => null,
                1 => stored,
                2 => stored + 1,
                3 => new long[] { 0, -1, long.MinValue, long.MaxValue }[random.Next(4)],
                _ => random.Next(1, 4),
            };
            if (method == "Create")
                version = null; // create has no expected version
            var id = random.Next(10) switch
            {
                0 => null,
                1 => new RequestId { ClientId = random.Next(2) == 0 ? "" : new string('c', 257), Sequence = ++_sequence },
                _ => new RequestId { ClientId = _clientId, Sequence = ++_sequence },
            };
            IMessage message = method switch
            {
                "Create" => new CreateRequest { Key = key, Value = ByteString.CopyFrom(value), Id = id },
                "Read" => new ReadRequest { Key = key },
                "Update" => version is { } v
                    ? new UpdateRequest { Key = key, Value = ByteString.CopyFrom(value), ExpectedVersion = v, Id = id }
                    : new UpdateRequest { Key = key, Value = ByteString.CopyFrom(value), Id = id },
                _ => version is { } v
                    ? new DeleteRequest { Key = key, ExpectedVersion = v, Id = id }
                    : new DeleteRequest { Key = key, Id = id },
            };
            var bytes = message.ToByteArray();
            var invalidUtf8 = random.Next(15) == 0;
            if (invalidUtf8)
                bytes = [0x0A, 0x03, 0x61, 0xFF, 0xFE, .. bytes]; // first a key field holding 'a', FF, FE: not UTF-8
            if (random.Next(5) == 0)
                bytes = [.. bytes, 0xA0, 0x06, 0x2A]; // unknown field 100 (varint 42): ignored

            var expected = invalidUtf8 ? (StatusCode.InvalidArgument, null) : Expect(method, key, value, version, id);
            var (status, reply) = await test.CallAsync(method, bytes);
            Assert.True(status == expected.Status,
                $"input {input}: {method} '{Describe(key)}' value {value.Length} B version {version?.ToString() ?? "-"} " +
                $"id {(id is null ? "-" : $"'{Describe(id.ClientId)}'/{id.Sequence}")}{(invalidUtf8 ? " with invalid UTF-8" : "")}: {status}, expected {expected.Status}");
            if (status == StatusCode.OK)
                Check(method, key, reply, expected.Version, input);
            if (method != "Read" && id is { ClientId.Length: > 0 and <= 256 } && !invalidUtf8)
                _lastWrite = (method, bytes, status, reply);
            Count(status);
        }

        /// <summary>What the store must answer, and the model's new state.</summary>
        private (StatusCode Status, long? Version) Expect(string method, string key, byte[] value, long? version, RequestId? id)
        {
            var keyBytes = Encoding.UTF8.GetByteCount(key);
            var write = method != "Read";
            if (key.Length == 0 || keyBytes > 1024 || (method is "Create" or "Update" && value.Length > MaxValueBytes)
                || (method is "Update" or "Delete" && version is < 1)
                || (write && id is not null && (id.ClientId.Length == 0 || Encoding.UTF8.GetByteCount(id.ClientId) > 256)))
                return (StatusCode.InvalidArgument, null);
            var exists = _state.TryGetValue(key, out var current);
            switch (method)
            {
                case "Create" when exists:
                    return (StatusCode.AlreadyExists, null);
                case "Create":
                    _state[key] = (value, 1);
                    return (StatusCode.OK, 1);
                case "Read":
                    return exists ? (StatusCode.OK, current.Version) : (StatusCode.NotFound, null);
                case "Update" or "Delete" when !exists:
                    return (StatusCode.NotFound, null);
                case "Update" or "Delete" when version is { } expected && expected != current.Version:
                    return (StatusCode.FailedPrecondition, null);
                case "Update":
                    _state[key] = (value, current.Version + 1);
                    return (StatusCode.OK, current.Version + 1);
                default:
                    _state.Remove(key);
                    return (StatusCode.OK, current.Version);
            }
        }

        private void Check(string method, string key, byte[] reply, long? version, int input)
        {
            if (method == "Read")
            {
                var read = ReadReply.Parser.ParseFrom(reply);
                Assert.True(read.Version == version && read.Value.Span.SequenceEqual(_state[key].Value),
                    $"input {input}: read '{Describe(key)}' gave version {read.Version}, expected {version}");
            }
            else
            {
                Assert.Equal(version, WriteReply.Parser.ParseFrom(reply).Version);
            }
        }

        public async Task VerifyAsync()
        {
            foreach (var key in Keys)
            {
                var (status, reply) = await test.CallAsync("Read", new ReadRequest { Key = key }.ToByteArray());
                if (_state.TryGetValue(key, out var expected))
                {
                    Assert.Equal(StatusCode.OK, status);
                    var read = ReadReply.Parser.ParseFrom(reply);
                    Assert.Equal(expected.Version, read.Version);
                    Assert.Equal(expected.Value, read.Value.ToByteArray());
                }
                else
                {
                    Assert.Equal(StatusCode.NotFound, status);
                }
            }
        }

        private void Count(StatusCode status) => Statuses[status] = Statuses.GetValueOrDefault(status) + 1;

        private static string Describe(string text) => text.Length > 12 ? $"{text[..12]}…({Encoding.UTF8.GetByteCount(text)} B)" : text;
    }
}
