using System.Text;
using Google.Protobuf;
using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.V1;

namespace KvAspire.Operations;

/// <summary>
/// List's messages to and from <see cref="ListQuery"/> and its pages, for the node that gathers a list,
/// the replicas that read their part, and the client library. A page token is the last key of the page
/// before, as UTF-8: opaque to clients.
/// </summary>
public static class ListMessages
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 10_000;

    /// <summary>Keys and values of a page past its first key: well inside gRPC's 4 MiB message limit.</summary>
    public const int MaxPageBytes = 2 * 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A client's list request as the query of each position's part; INVALID_ARGUMENT when malformed.</summary>
    public static ListQuery ToQuery(ListRequest request)
    {
        if (Encoding.UTF8.GetByteCount(request.Prefix) > ClusterTopology.MaxKeyBytes)
            throw OperationMessages.Invalid($"the prefix is over {ClusterTopology.MaxKeyBytes} bytes");
        if (request.Limit is < 0 or > MaxLimit)
            throw OperationMessages.Invalid($"limit {request.Limit} is not from 1 to {MaxLimit} (or 0 for {DefaultLimit})");
        string? after = null;
        if (!request.PageToken.IsEmpty)
        {
            try
            {
                after = StrictUtf8.GetString(request.PageToken.Span);
            }
            catch (DecoderFallbackException)
            {
                throw OperationMessages.Invalid("the page token is not one this API gave");
            }
        }
        return new ListQuery(request.Prefix, after, request.Limit == 0 ? DefaultLimit : request.Limit, request.KeysOnly, MaxPageBytes);
    }

    public static ListRequest ToRequest(ListQuery query) => new()
    {
        Prefix = query.Prefix, Limit = query.Limit, KeysOnly = query.KeysOnly, PageToken = PageToken(query.After),
    };

    public static ByteString PageToken(string? after) => after is null ? ByteString.Empty : ByteString.CopyFromUtf8(after);

    public static ListPositionRequest ToPositionRequest(int position, ListQuery query) => new()
    {
        Position = position, Prefix = query.Prefix, After = query.After ?? "", HasAfter = query.After is not null, Limit = query.Limit,
        KeysOnly = query.KeysOnly, MaxBytes = query.MaxBytes,
    };

    public static ListQuery ToQuery(ListPositionRequest request) =>
        new(request.Prefix, request.HasAfter ? request.After : null, request.Limit, request.KeysOnly, request.MaxBytes);

    /// <summary>One position's page, and the revision it was read at.</summary>
    public static ListPositionReply ToPositionReply(OperationResult listed, int position)
    {
        var page = listed.Listed ?? throw new ArgumentException("the result is not a list's", nameof(listed));
        var reply = new ListPositionReply { Revision = listed.Revision, More = page.More, ClaimEpoch = page.ClaimEpoch };
        reply.Items.AddRange(page.Keys.Select(key => ToItem(key, position)));
        return reply;
    }

    public static ListItem ToItem(ListedKey key, int position) => new()
    {
        Key = key.Key, Value = UnsafeByteOperations.UnsafeWrap(key.Value), Version = key.Version, CreateRevision = key.CreateRevision,
        ModRevision = key.ModRevision, Position = position,
    };

    public static ListedKey ToKey(ListItem item) => new(item.Key, item.Value.Memory, item.Version, item.CreateRevision, item.ModRevision, item.Position);

    /// <summary>The ring's page as the node that gathered it answers; the token names its last key when more follow.</summary>
    public static ListReply ToReply(ListPage page)
    {
        var reply = new ListReply { NextPageToken = PageToken(page.More ? page.Keys[^1].Key : null) };
        reply.Items.AddRange(page.Keys.Select(key => ToItem(key, key.Position)));
        reply.ReadAt.AddRange((page.ReadAt ?? new Dictionary<int, long>()).OrderBy(part => part.Key)
            .Select(part => new PositionRevision { Position = part.Key, Revision = part.Value }));
        return reply;
    }

    public static ListPage ToPage(ListReply reply) =>
        new([.. reply.Items.Select(ToKey)], !reply.NextPageToken.IsEmpty, reply.ReadAt.ToDictionary(part => part.Position, part => part.Revision));

    public static ListPage ToPage(ListPositionReply reply) => new([.. reply.Items.Select(ToKey)], reply.More, ClaimEpoch: reply.ClaimEpoch);
}
