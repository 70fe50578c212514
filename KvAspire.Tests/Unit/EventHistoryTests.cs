using System.Text;
using KvAspire.Node.Errors;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The events a replica keeps for watchers (<see cref="EventHistory"/>) and a watcher's walk through them
/// (<see cref="HistoryWatch"/>): whole revisions, bounded in bytes, and a start below what is kept refused
/// with the oldest start that is.
/// </summary>
[Trait("Category", "Unit")]
public sealed class EventHistoryTests
{
    private static readonly TimeSpan Progress = TimeSpan.FromSeconds(1);

    private static KeyEvent Put(string key, long revision, int valueBytes = 1) =>
        new(KeyEventKind.Put, new ListedKey(key, new byte[valueBytes], 1, revision, revision), null);

    private static string Described(IEnumerable<KeyEvent> events) => string.Join(" ", events.Select(change => $"{change.Key}@{change.Revision}"));

    [Fact]
    public void Reads_give_whole_revisions_after_a_start_and_the_revision_they_bring_a_reader_to()
    {
        var history = new EventHistory(1 << 20);
        history.Reset(1);
        history.Append([Put("a", 2)], 2);
        history.Append([Put("b", 3), Put("c", 3)], 3);
        history.Append([], 3);
        history.Append([Put("d", 4)], 4);

        var (all, upToAll, _) = history.Read(1, 1 << 20)!.Value;
        // Past the byte bound after the first event: revision 2 alone, then 3 whole though it passes the bound.
        var (first, upToFirst, _) = history.Read(1, 1)!.Value;
        var (second, upToSecond, _) = history.Read(2, 1)!.Value;
        var (none, upToNone, _) = history.Read(4, 1 << 20)!.Value;
        var (ahead, upToAhead, _) = history.Read(9, 1 << 20)!.Value;

        Assert.Equal(("a@2 b@3 c@3 d@4", 4L), (Described(all), upToAll));
        Assert.Equal(("a@2", 2L), (Described(first), upToFirst));
        Assert.Equal(("b@3 c@3", 3L), (Described(second), upToSecond));
        Assert.Equal(("", 4L), (Described(none), upToNone));
        Assert.Equal(("", 9L), (Described(ahead), upToAhead));
        Assert.Null(history.Read(0, 1 << 20));
    }

    private static readonly OwnedRange Moving = new(2, 64, false, 1UL << 62, 1UL << 63);

    private static readonly string MovingKey = Enumerable.Range(0, 100).Select(i => $"k{i}").First(Moving.Holds);

    private static RangeHandover Handover(long revision, int giver, int taker, long giverRevision, long epoch = 2) =>
        new(revision, Moving, new WatchHandover(epoch, giver, taker, giverRevision));

    [Fact]
    public void A_read_stops_at_a_handover_and_gives_it_with_the_events_before_it()
    {
        var history = new EventHistory(1 << 20);
        history.Reset(1, claimEpoch: 1);
        history.Append([Put("a", 2)], 2);
        history.Append([], 3, Handover(3, giver: 0, taker: 1, giverRevision: 3), claimEpoch: 2);
        history.Append([Put("b", 4)], 4);

        var (before, upToBefore, handover) = history.Read(1, 1 << 20)!.Value;
        var (after, upToAfter, none) = history.Read(3, 1 << 20)!.Value;

        Assert.Equal(("a@2", 3L, 3L), (Described(before), upToBefore, handover?.Revision));
        Assert.Equal(("b@4", 4L), (Described(after), upToAfter));
        Assert.Null(none);
    }

    [Fact]
    public void A_watch_following_keys_to_their_taker_starts_just_before_its_handover_or_now_if_it_has_not_taken_them()
    {
        var history = new EventHistory(3 * Put("k", 1, 1000).Bytes);
        history.Reset(10, claimEpoch: 1);
        Assert.Equal(10L, history.ArrivalStart(1, 2)); // not taken yet: whatever comes is after now

        history.Append([Put("a", 11, 1000)], 11);
        history.Append([], 12, Handover(12, giver: 0, taker: 1, giverRevision: 7), claimEpoch: 2);
        Assert.Equal(11L, history.ArrivalStart(1, 2));
        Assert.Equal(12L, history.ArrivalStart(1, 3)); // no claim of epoch 3 yet: now
        history.Append([], 13, claimEpoch: 3);
        Assert.Equal(10L, history.ArrivalStart(1, 3)); // epoch 3 claimed with nothing taken (a move given up): all kept from the floor

        for (var revision = 14; revision < 18; revision++)
            history.Append([Put("b", revision, 1000)], revision);
        Assert.Null(history.ArrivalStart(1, 2)); // the handover is no longer kept
    }

    [Fact]
    public async Task A_watch_of_a_key_gets_its_handover_and_one_started_after_it_is_told_where_the_key_went()
    {
        var history = new EventHistory(1 << 20);
        history.Reset(1, claimEpoch: 1);
        history.Append([Put(MovingKey, 2)], 2);
        history.Append([], 3, Handover(3, giver: 0, taker: 1, giverRevision: 3), claimEpoch: 2);
        var query = new WatchQuery(MovingKey, Prefix: false, PreviousValues: false);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var watched = await history.WatchAsync(0, query, new WatchStart(1), Progress, TimeProvider.System, stop.Token).Take(2).ToListAsync(stop.Token);
        var late = await history.WatchAsync(0, query, new WatchStart(null), Progress, TimeProvider.System, stop.Token).Take(2).ToListAsync(stop.Token);
        var other = new WatchQuery(Enumerable.Range(0, 100).Select(i => $"k{i}").First(k => !Moving.Holds(k)), false, false);
        history.Append([Put(other.Key, 4)], 4);
        var unconcerned = await history.WatchAsync(0, other, new WatchStart(1), Progress, TimeProvider.System, stop.Token).Take(2).ToListAsync(stop.Token);

        // The events before the handover come with it, in a batch at its revision.
        Assert.Equal("1: | 3:" + MovingKey + "@2 handover 0->1", string.Join(" | ", watched.Select(Shown)));
        Assert.Equal("3: | 3: handover 0->1", string.Join(" | ", late.Select(Shown)));
        Assert.Equal("1: | 4:" + other.Key + "@4", string.Join(" | ", unconcerned.Select(Shown)));
    }

    private static string Shown(WatchBatch batch) =>
        $"{batch.Revision}:{Described(batch.Events)}" + (batch.Handover is { } h ? $" handover {h.Giver}->{h.Taker}" : "");

    [Fact]
    public void Past_its_bound_the_history_drops_its_oldest_revisions_whole_and_raises_its_floor()
    {
        var eventBytes = Put("k", 1, 1000).Bytes;
        var history = new EventHistory(5 * eventBytes);
        history.Reset(1);
        history.Append([Put("a", 2, 1000), Put("b", 2, 1000)], 2);
        history.Append([Put("c", 3, 1000), Put("d", 3, 1000)], 3);
        history.Append([Put("e", 4, 1000), Put("f", 4, 1000)], 4);

        Assert.Equal(2, history.Floor);
        Assert.Null(history.Read(1, 1 << 20));
        Assert.Equal("c@3 d@3 e@4 f@4", Described(history.Read(2, 1 << 20)!.Value.Events));
    }

    [Fact]
    public void A_reset_empties_the_history_at_the_revision_given()
    {
        var history = new EventHistory(1 << 20);
        history.Reset(1);
        history.Append([Put("a", 2)], 2);

        history.Reset(40);

        Assert.Equal((40L, 40L), (history.Floor, history.Revision));
        Assert.Null(history.Read(39, 1 << 20));
        Assert.Equal(("", 40L), (Described(history.Read(40, 1 << 20)!.Value.Events), history.Read(40, 1 << 20)!.Value.UpTo));
    }

    [Fact]
    public async Task A_watch_starts_with_a_notice_then_sends_matching_events_as_appended_and_a_notice_when_idle()
    {
        var clock = new FakeTimeProvider();
        var history = new EventHistory(1 << 20);
        history.Reset(1);
        history.Append([Put("app/a", 2), Put("other", 2)], 2);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var watch = history.WatchAsync(3, new WatchQuery("app/", Prefix: true, PreviousValues: false), new WatchStart(1), Progress, clock, stop.Token)
            .GetAsyncEnumerator(stop.Token);

        Assert.True(await watch.MoveNextAsync());
        Assert.Equal((3, 1L, ""), (watch.Current.Position, watch.Current.Revision, Described(watch.Current.Events)));
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal((2L, "app/a@2"), (watch.Current.Revision, Described(watch.Current.Events)));

        var next = watch.MoveNextAsync();
        history.Append([Put("other", 3)], 3);
        history.Append([Put("app/b", 4), Put("app/c", 4)], 4);
        Assert.True(await next);
        Assert.Equal((4L, "app/b@4 app/c@4"), (watch.Current.Revision, Described(watch.Current.Events)));

        next = watch.MoveNextAsync();
        history.Append([Put("other", 5)], 5);
        await Wait.UntilAsync(() => { clock.Advance(TimeSpan.FromMilliseconds(100)); return next.IsCompleted; }, TimeSpan.FromSeconds(10), "a progress notice");
        Assert.True(await next);
        Assert.Equal((5L, ""), (watch.Current.Revision, Described(watch.Current.Events)));
    }

    [Fact]
    public async Task A_watch_from_below_the_floor_is_refused_naming_the_oldest_start_kept()
    {
        var history = new EventHistory(1 << 20);
        history.Reset(10);

        var refused = await Assert.ThrowsAsync<EventsCompactedException>(async () =>
        {
            await foreach (var _ in history.WatchAsync(2, new WatchQuery("k", false, false), new WatchStart(4), Progress, TimeProvider.System, CancellationToken.None))
            {
            }
        });

        Assert.Equal((2, 10L, FailureKind.Compacted), (refused.Position, refused.Floor, refused.Kind));
        Assert.Contains("list again", refused.Message);
    }

    [Fact]
    public async Task A_replica_that_does_not_count_revisions_yet_serves_no_watch()
    {
        var history = new EventHistory(1 << 20);

        var refused = await Assert.ThrowsAsync<RequestFailedException>(async () =>
        {
            await foreach (var _ in history.WatchAsync(0, new WatchQuery("k", false, false), new WatchStart(null), Progress, TimeProvider.System, CancellationToken.None))
            {
            }
        });

        Assert.Equal(FailureKind.Unavailable, refused.Kind);
    }

    [Fact]
    public void Recovery_rebuilds_the_history_from_the_entries_logged_after_the_snapshot()
    {
        using var data = new NodeDataDirectory();
        using (var log = OperationLog.Open(data.Path, 0, 0))
        {
            log.Append([new RaftEntry(1, 1, LogRecordFormat.EncodeRevisionBaseline())], null);
            log.AppendCommitted([
                new CommittedEntry(2, 1, 1001, [new KvOperation(OperationKind.Create, "a", Encoding.UTF8.GetBytes("1"))]),
                new CommittedEntry(3, 1, 1002, [new KvOperation(OperationKind.Update, "a", Encoding.UTF8.GetBytes("2"))]),
            ]);
        }

        var recovered = data.Recover();

        Assert.Equal(0, recovered.Events.Floor);
        Assert.Equal((3L, "a@2 a@3"), (recovered.Events.Revision, Described(recovered.Events.Read(0, 1 << 20)!.Value.Events)));
    }
}
