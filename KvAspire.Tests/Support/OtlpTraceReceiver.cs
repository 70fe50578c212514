using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;

namespace KvAspire.Tests.Support;

/// <summary>A span as a node exported it: the node (service.name), names, ids and string/int attributes.</summary>
public sealed record ReceivedSpan(string Service, string Name, string TraceId, string SpanId, string ParentSpanId, int Kind, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// Receives the OTLP/HTTP (protobuf) exports of real nodes, as the Aspire dashboard would, and keeps
/// their spans. Reads just the fields of the OTLP trace messages the tests look at.
/// </summary>
public sealed class OtlpTraceReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();

    public OtlpTraceReceiver()
    {
        Endpoint = $"http://127.0.0.1:{TestPorts.Take(1)[0]}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _ = ServeAsync();
    }

    public string Endpoint { get; }

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans;

    /// <summary>Environment that makes a node export its telemetry here, quickly.</summary>
    public IReadOnlyDictionary<string, string> EnvironmentFor(string service) => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_SERVICE_NAME"] = service,
        ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
    };

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
                Parse(body.ToArray());
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    // ExportTraceServiceRequest { 1: ResourceSpans }; ResourceSpans { 1: Resource, 2: ScopeSpans };
    // Resource { 1: KeyValue attributes }; ScopeSpans { 2: Span }.
    private void Parse(byte[] request)
    {
        foreach (var resourceSpans in Messages(request, 1))
        {
            var service = Attributes(Messages(resourceSpans, 1).FirstOrDefault() ?? []).GetValueOrDefault("service.name", "");
            foreach (var scopeSpans in Messages(resourceSpans, 2))
            {
                foreach (var span in Messages(scopeSpans, 2))
                    _spans.Enqueue(ParseSpan(service, span));
            }
        }
    }

    // Span { 1: trace_id, 2: span_id, 4: parent_span_id, 5: name, 6: kind, 9: KeyValue attributes }
    private static ReceivedSpan ParseSpan(string service, byte[] span)
    {
        string Hex(int number) => Convert.ToHexStringLower(Messages(span, number).FirstOrDefault() ?? []);
        return new ReceivedSpan(service,
            System.Text.Encoding.UTF8.GetString(Messages(span, 5).FirstOrDefault() ?? []),
            Hex(1), Hex(2), Hex(4),
            (int)Fields(span).FirstOrDefault(f => f.Number == 6).Varint,
            Attributes(span, attributeField: 9));
    }

    // KeyValue { 1: key, 2: AnyValue { 1: string_value, 3: int_value } }
    private static Dictionary<string, string> Attributes(byte[] message, int attributeField = 1)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var pair in Messages(message, attributeField))
        {
            var key = System.Text.Encoding.UTF8.GetString(Messages(pair, 1).FirstOrDefault() ?? []);
            var value = Fields(Messages(pair, 2).FirstOrDefault() ?? []).FirstOrDefault();
            attributes[key] = value.Number switch
            {
                1 => System.Text.Encoding.UTF8.GetString(value.Bytes),
                3 => value.Varint.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "",
            };
        }
        return attributes;
    }

    private readonly record struct Field(int Number, byte[] Bytes, ulong Varint);

    /// <summary>The length-delimited fields numbered <paramref name="number"/>.</summary>
    private static IEnumerable<byte[]> Messages(byte[] message, int number) =>
        Fields(message).Where(f => f.Number == number).Select(f => f.Bytes);

    private static IEnumerable<Field> Fields(byte[] message)
    {
        var input = new CodedInputStream(message);
        var fields = new List<Field>();
        for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.LengthDelimited:
                    fields.Add(new Field(number, input.ReadBytes().ToByteArray(), 0));
                    break;
                case WireFormat.WireType.Varint:
                    fields.Add(new Field(number, [], input.ReadUInt64()));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return fields;
    }

    public void Dispose() => _listener.Close();
}
