using System.Globalization;
using System.Text;
using Grpc.Core;
using KvAspire.Cluster;
using KvAspire.V1;

namespace KvAspire.Operations;

/// <summary>
/// Watch's messages to and from <see cref="WatchQuery"/> and <see cref="WatchBatch"/>, for the node a watcher
/// calls, the replicas it relays from, and the client library.
/// </summary>
public static class WatchMessages
{
    /// <summary>
    /// The trailer of a watch that ended with OUT_OF_RANGE: <c>position:revision</c>, the position whose events
    /// from the start asked for are gone, and the oldest start it can serve.
    /// </summary>
    public const string CompactedTrailer = "kvaspire-compacted";

    /// <summary>A client's watch as its query; INVALID_ARGUMENT when malformed.</summary>
    public static WatchQuery ToQuery(WatchCreate create)
    {
        if (Encoding.UTF8.GetByteCount(create.Key) > ClusterTopology.MaxKeyBytes)
            throw OperationMessages.Invalid($"the {(create.Prefix ? "prefix" : "key")} is over {ClusterTopology.MaxKeyBytes} bytes");
        if (!create.Prefix && create.Key.Length == 0)
            throw OperationMessages.Invalid("a watch of one key needs the key (or set prefix to watch every key)");
        return new WatchQuery(create.Key, create.Prefix, create.PrevValue);
    }

    /// <summary>Per position of a cluster of <paramref name="positions"/> (spare ones included: a watch follows its keys to one added), the revision a watch starts after; INVALID_ARGUMENT when malformed.</summary>
    public static IReadOnlyDictionary<int, long> ToStart(WatchCreate create, int positions)
    {
        var start = new Dictionary<int, long>();
        foreach (var part in create.Start)
        {
            if (part.Position < 0 || part.Position >= positions)
                throw OperationMessages.Invalid($"the start names position {part.Position}; this cluster has positions 0 to {positions - 1}");
            if (part.Revision < 0)
                throw OperationMessages.Invalid($"the start's revision for position {part.Position} is negative ({part.Revision})");
            if (!start.TryAdd(part.Position, part.Revision))
                throw OperationMessages.Invalid($"the start names position {part.Position} twice");
        }
        return start;
    }

    public static WatchCreate ToCreate(WatchQuery query, IReadOnlyDictionary<int, long>? start, bool progressNotify)
    {
        var create = new WatchCreate { Key = query.Key, Prefix = query.Prefix, PrevValue = query.PreviousValues, ProgressNotify = progressNotify };
        create.Start.AddRange((start ?? new Dictionary<int, long>()).OrderBy(part => part.Key)
            .Select(part => new PositionRevision { Position = part.Key, Revision = part.Value }));
        return create;
    }

    public static WatchPositionRequest ToPositionRequest(int position, WatchQuery query, WatchStart start) => new()
    {
        Position = position, Key = query.Key, Prefix = query.Prefix, PrevValue = query.PreviousValues, Start = start.After ?? 0,
        FromNow = start.After is null, ArrivalEpoch = start.ArrivalEpoch,
    };

    public static WatchQuery ToQuery(WatchPositionRequest request) => new(request.Key, request.Prefix, request.PrevValue);

    public static WatchStart ToStart(WatchPositionRequest request) =>
        request.ArrivalEpoch > 0 ? WatchStart.Arrival(request.ArrivalEpoch) : new WatchStart(request.FromNow ? null : request.Start);

    public static WatchReply ToReply(WatchBatch batch)
    {
        var reply = new WatchReply
        {
            Position = batch.Position, Revision = batch.Revision, Progress = batch.AnsweredRequest is not null, ProgressId = batch.AnsweredRequest ?? 0,
        };
        if (batch.Handover is { } handover)
            reply.Handover = new V1.WatchHandover
            {
                Epoch = handover.Epoch, Giver = handover.Giver, Taker = handover.Taker, GiverRevision = handover.GiverRevision,
            };
        foreach (var change in batch.Events)
        {
            var message = new WatchEvent
            {
                Type = change.Kind == KeyEventKind.Delete ? WatchEvent.Types.Type.Delete : WatchEvent.Types.Type.Put,
                Kv = ListMessages.ToItem(change.Kv, batch.Position),
            };
            if (change.Previous is { } previous)
                message.PrevKv = ListMessages.ToItem(previous, batch.Position);
            reply.Events.Add(message);
        }
        return reply;
    }

    public static WatchBatch ToBatch(WatchReply reply) =>
        new(reply.Position, reply.Revision, [.. reply.Events.Select(change => new KeyEvent(
            change.Type == WatchEvent.Types.Type.Delete ? KeyEventKind.Delete : KeyEventKind.Put,
            ListMessages.ToKey(change.Kv), change.PrevKv is null ? null : ListMessages.ToKey(change.PrevKv)))], reply.Progress ? reply.ProgressId : null,
            reply.Handover is { } handover ? new WatchHandover(handover.Epoch, handover.Giver, handover.Taker, handover.GiverRevision) : null);

    /// <summary>The trailer naming a position's oldest start.</summary>
    public static Metadata.Entry CompactedEntry(int position, long floor) =>
        new(CompactedTrailer, string.Create(CultureInfo.InvariantCulture, $"{position}:{floor}"));

    /// <summary>The position and oldest start a watch's OUT_OF_RANGE names, or null without the trailer.</summary>
    public static (int Position, long Floor)? Compacted(Metadata trailers)
    {
        var text = trailers.GetValue(CompactedTrailer);
        var colon = text?.IndexOf(':') ?? -1;
        return colon > 0
               && int.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var position)
               && long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var floor)
            ? (position, floor)
            : null;
    }
}
