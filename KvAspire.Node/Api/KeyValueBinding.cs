using Google.Protobuf;
using Grpc.Core;
using KvAspire.V1;

namespace KvAspire.Node.Api;

/// <summary>
/// Binds <see cref="KeyValueService"/> like the generated code does, but with request marshallers that
/// report an undecodable request (invalid UTF-8 in a string, a broken field) as INVALID_ARGUMENT: the
/// generated ones let the parse exception surface as UNKNOWN.
/// </summary>
public static class KeyValueBinding
{
    private const string ServiceName = "kvaspire.v1.KeyValue";

    public static void BindService(ServiceBinderBase binder, KeyValue.KeyValueBase? service)
    {
        // The delegates may be null: ASP.NET Core finds the handlers by name among the overrides of
        // the type of the second parameter.
        binder.AddMethod(Unary<CreateRequest, WriteReply>(nameof(KeyValueService.Create), CreateRequest.Parser), (UnaryServerMethod<CreateRequest, WriteReply>?)null);
        binder.AddMethod(Unary<ReadRequest, ReadReply>(nameof(KeyValueService.Read), ReadRequest.Parser), (UnaryServerMethod<ReadRequest, ReadReply>?)null);
        binder.AddMethod(Unary<UpdateRequest, WriteReply>(nameof(KeyValueService.Update), UpdateRequest.Parser), (UnaryServerMethod<UpdateRequest, WriteReply>?)null);
        binder.AddMethod(Unary<DeleteRequest, WriteReply>(nameof(KeyValueService.Delete), DeleteRequest.Parser), (UnaryServerMethod<DeleteRequest, WriteReply>?)null);
        binder.AddMethod(Unary<TxnRequest, TxnReply>(nameof(KeyValueService.Txn), TxnRequest.Parser), (UnaryServerMethod<TxnRequest, TxnReply>?)null);
        binder.AddMethod(Unary<ListRequest, ListReply>(nameof(KeyValueService.List), ListRequest.Parser), (UnaryServerMethod<ListRequest, ListReply>?)null);
        binder.AddMethod(Method<WatchRequest, WatchReply>(MethodType.DuplexStreaming, nameof(KeyValueService.Watch), WatchRequest.Parser),
            (DuplexStreamingServerMethod<WatchRequest, WatchReply>?)null);
    }

    private static Method<TRequest, TReply> Unary<TRequest, TReply>(string name, MessageParser<TRequest> parser)
        where TRequest : IMessage<TRequest>
        where TReply : IMessage<TReply> =>
        Method<TRequest, TReply>(MethodType.Unary, name, parser);

    private static Method<TRequest, TReply> Method<TRequest, TReply>(MethodType type, string name, MessageParser<TRequest> parser)
        where TRequest : IMessage<TRequest>
        where TReply : IMessage<TReply> =>
        new(type, ServiceName, name, Marshallers.Create(Serialize, context => Deserialize(context, parser)),
            Marshallers.Create<TReply>(Serialize, _ => throw new NotSupportedException("the server never reads a reply")));

    private static void Serialize<T>(T message, SerializationContext context) where T : IMessage<T>
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }

    private static T Deserialize<T>(DeserializationContext context, MessageParser<T> parser) where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(context.PayloadAsReadOnlySequence());
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"the request cannot be decoded: {e.Message}"));
        }
    }
}
