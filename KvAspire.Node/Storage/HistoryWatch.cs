using System.Runtime.CompilerServices;
using KvAspire.Node.Errors;
using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// One watcher's walk through this replica's <see cref="EventHistory"/> of a position: first a notice of
/// where it starts, then the matching events in whole revisions as they are applied, the handovers of keys it
/// watches (each ends a batch, at the handover's own revision), and a progress notice when the position has been idle for
/// <c>progressEvery</c>. The history is the only buffer: a watcher that
/// falls behind costs no memory, and one that falls below the history's floor ends with
/// <see cref="EventsCompactedException"/> (another replica may still keep its events).
/// </summary>
public static class HistoryWatch
{
    /// <summary>A reply's events stop past this many bytes (whole revisions, so one may hold more).</summary>
    public const long ReplyBytes = 1024 * 1024;

    /// <param name="start">Where the events sent start (<see cref="WatchStart"/>).</param>
    /// <exception cref="EventsCompactedException">The events after the start are no longer kept here.</exception>
    /// <exception cref="RequestFailedException">UNAVAILABLE: this replica has not applied its position's baseline entry.</exception>
    public static async IAsyncEnumerable<WatchBatch> WatchAsync(this EventHistory history, int position, WatchQuery query, WatchStart start,
        TimeSpan progressEvery, TimeProvider clock, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (history.Revision == 0)
            throw RequestFailedException.Unavailable($"position {position} does not count revisions here yet (its baseline entry is not applied on this replica)");
        var cursor = start.ArrivalEpoch > 0
            ? history.ArrivalStart(position, start.ArrivalEpoch) ?? throw new EventsCompactedException(position, history.Floor, history.Floor - 1)
            : start.After ?? history.Revision;
        yield return new WatchBatch(position, cursor, []);
        // A watch of a key that left before its start goes where the key went.
        if (history.GivenAway(position, query, cursor) is { } given)
            yield return new WatchBatch(position, cursor, [], Handover: given.Handover);
        var lastSent = clock.GetTimestamp();
        while (true)
        {
            var appended = history.Appended;
            var (events, upTo, handover) = history.Read(cursor, ReplyBytes) ?? throw new EventsCompactedException(position, history.Floor, cursor);
            var matching = events.Where(change => query.Matches(change.Key))
                .Select(change => query.PreviousValues || change.Previous is null ? change : change with { Previous = null })
                .ToList();
            var moved = upTo > cursor;
            cursor = upTo;
            var concerning = handover is not null && handover.Concerns(query) ? handover.Handover : null;
            if (matching.Count > 0 || concerning is not null)
            {
                yield return new WatchBatch(position, cursor, matching, Handover: concerning);
                lastSent = clock.GetTimestamp();
                continue;
            }
            if (moved && (events.Count > 0 || handover is not null))
                continue; // read on: what was read matched nothing, and more may be kept

            var idle = clock.GetElapsedTime(lastSent);
            if (idle >= progressEvery)
            {
                yield return new WatchBatch(position, cursor, []);
                lastSent = clock.GetTimestamp();
                continue;
            }
            try
            {
                await appended.WaitAsync(progressEvery - idle, clock, cancellationToken);
            }
            catch (TimeoutException)
            {
                // idle for a while: the progress notice is due
            }
        }
    }
}
