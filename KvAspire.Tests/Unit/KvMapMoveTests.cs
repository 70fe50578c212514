using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Routing;

namespace KvAspire.Tests.Unit;

/// <summary>
/// A move between two positions' maps, as their logs apply it: the giver's fence (a smaller claim), the
/// copy read from the giver's snapshot and installed at the taker in parts, the taker's claim, the
/// giver's drop. Keys keep their versions and revisions, sessions make a retry exactly-once across the
/// move, the taker counts revisions on above the giver's, a copy of a later move leaves exactly the
/// giver's keys, two copies of one move cannot undo each other, the fence holds its move (or refuses
/// it) as every replica would, and leases move whole with the key each lives with.
/// </summary>
[Trait("Category", "Unit")]
public sealed class KvMapMoveTests
{
    // Two evenly spaced positions on 64-bit ids; the move takes position 1's id from 2^63 - 1 up to 2^63 + 2^62,
    // so position 1 (the taker) gains (2^63 - 1, 2^63 + 2^62] from position 0 (the giver).
    private static readonly RingLayout Before = new(1, 64, RingMath.Even(64, 2), [], false);
    private static readonly RingLayout After = Before with { Epoch = 2, PositionIds = [Before.PositionIds[0], (1UL << 63) + (1UL << 62)] };
    private static readonly OwnedRange Moving = new(2, 64, false, Before.PositionIds[1], After.PositionIds[1]);

    private static readonly string[] Keys = [.. Enumerable.Range(0, 400).Select(i => $"k{i}")];
    private static readonly string MovingKey = Keys.First(Moving.Holds);
    private static readonly string StayingKey = Keys.First(k => OwnedRange.Of(After, 0).Holds(k));

    private readonly KvMap _giver = new();
    private readonly KvMap _taker = new();
    private long _giverIndex, _takerIndex;

    public KvMapMoveTests()
    {
        Apply(_giver, ref _giverIndex, new CommittedEntry(0, 1, 0, [], StartsRevisions: true), new CommittedEntry(0, 1, 0, [], Claim: OwnedRange.Of(Before, 0)));
        Apply(_taker, ref _takerIndex, new CommittedEntry(0, 1, 0, [], StartsRevisions: true), new CommittedEntry(0, 1, 0, [], Claim: OwnedRange.Of(Before, 1)));
    }

    private static void Apply(KvMap map, ref long index, params CommittedEntry[] entries)
    {
        foreach (var entry in entries)
            map.Apply(entry with { Index = ++index });
    }

    private static OperationResult Write(KvMap map, ref long index, KvOperation operation) =>
        map.Apply(new CommittedEntry(++index, 1, 1000 + index, [operation]))[0];

    private static KvOperation Create(string key, string value, ClientRequestId? id = null) => new(OperationKind.Create, key, Encoding.UTF8.GetBytes(value), null, id);

    private static KvOperation Update(string key, string value, ClientRequestId? id = null) => new(OperationKind.Update, key, Encoding.UTF8.GetBytes(value), null, id);

    private static readonly MovePlan Plan = MovePlan.Boundary(Before, 1, After.PositionIds[1]);

    /// <summary>
    /// The giver's fence (through the log's encoding; one already applied stays), then its copy installed at
    /// the taker, and the taker's claim, at <paramref name="epoch"/>.
    /// </summary>
    private RangeExport Move(int partBytes = 1 << 20, long epoch = 2)
    {
        var after = After with { Epoch = epoch };
        var plan = Plan with { Before = Before with { Epoch = epoch - 1 }, After = after, Moving = Moving with { Epoch = epoch } };
        Apply(_giver, ref _giverIndex, LogRecordFormat.DecodePayload(LogRecordFormat.EncodeFence(OwnedRange.Of(after, 0), plan).Span)!);
        Assert.True(_giver.Move?.IsSameMove(plan), _giver.FenceRefused);
        var export = RangeExport.Of(_giver.Freeze(), Moving);
        _giver.Thaw();
        InstallAt(_taker, ref _takerIndex, export, partBytes, epoch);
        Apply(_taker, ref _takerIndex, new CommittedEntry(0, 1, 0, [], Claim: OwnedRange.Of(after, 1)));
        return export;
    }

    /// <summary>A copy's parts as the taker's log carries them, the first marked.</summary>
    private static void InstallAt(KvMap taker, ref long index, RangeExport export, int partBytes, long epoch, Func<int, bool>? keep = null)
    {
        var parts = export.Parts(partBytes).Select((part, i) => (part.Part, i)).Where(p => keep?.Invoke(p.i) ?? true);
        foreach (var (part, i) in parts)
            Apply(taker, ref index, LogRecordFormat.DecodePayload(LogRecordFormat.EncodeInstall(epoch, i == 0, SnapshotFormat.Encode(part)).Span)!);
    }

    private static CommittedEntry Release() => LogRecordFormat.DecodePayload(LogRecordFormat.EncodeDropUnclaimed().Span)!;

    [Fact]
    public void Moved_keys_keep_versions_and_revisions_and_the_taker_counts_on_above_the_giver()
    {
        foreach (var key in Keys.Where(k => OwnedRange.Of(Before, 0).Holds(k)))
            Write(_giver, ref _giverIndex, Create(key, "v1"));
        Write(_giver, ref _giverIndex, Update(MovingKey, "v2"));
        var before = _giver.Read(MovingKey);
        Write(_taker, ref _takerIndex, Create(Keys.First(k => OwnedRange.Of(Before, 1).Holds(k)), "t"));

        var export = Move(partBytes: 200);

        Assert.True(export.Keys > 1);
        var moved = _taker.Read(MovingKey);
        Assert.Equal((ResultCode.Ok, "v2", 2L), (moved.Code, Encoding.UTF8.GetString(moved.Value.Span), moved.Version));
        Assert.Equal((before.CreateRevision, before.ModRevision), (moved.CreateRevision, moved.ModRevision));
        Assert.Equal(_giver.Revision + 1, _taker.Revision); // the taker's claim takes a revision of its own
        Assert.True(Write(_taker, ref _takerIndex, Update(MovingKey, "v3")).ModRevision > before.ModRevision);
        Assert.Equal(ResultCode.NotOwner, _giver.Read(MovingKey).Code);
        Assert.Equal(ResultCode.Ok, _giver.Read(StayingKey).Code);
        Assert.All(Keys.Where(Moving.Holds), k => Assert.Equal(ResultCode.Ok, _taker.Read(k).Code));

        var held = _giver.Count;
        Apply(_giver, ref _giverIndex, Release());
        Assert.Equal(held - export.Keys, _giver.Count);
        Assert.Null(_giver.Move);
    }

    [Fact]
    public void A_write_applied_before_the_fence_is_answered_at_the_taker_and_one_refused_after_it_runs_there_once()
    {
        var applied = new ClientRequestId("c", 5);
        var refused = new ClientRequestId("c", 6);
        var first = Write(_giver, ref _giverIndex, Create(MovingKey, "v", applied));
        Write(_taker, ref _takerIndex, Create(Keys.First(k => OwnedRange.Of(Before, 1).Holds(k)), "t", new ClientRequestId("c", 4)));
        Apply(_giver, ref _giverIndex, new CommittedEntry(0, 1, 0, [], Claim: OwnedRange.Of(After, 0), Fence: Plan));
        Assert.Equal(ResultCode.NotOwner, Write(_giver, ref _giverIndex, Update(MovingKey, "w", refused)).Code);

        Move();

        Assert.Equal(first, Write(_taker, ref _takerIndex, Create(MovingKey, "v", applied)));
        Assert.Equal(2, Write(_taker, ref _takerIndex, Update(MovingKey, "w", refused)).Version);
        Assert.Equal(2, Write(_taker, ref _takerIndex, Update(MovingKey, "w", refused)).Version);
        Assert.Equal(2, _taker.Read(MovingKey).Version);
    }

    [Fact]
    public void A_copy_of_a_later_move_leaves_exactly_the_givers_keys_and_one_after_the_claim_changes_nothing()
    {
        var deletedLater = Keys.Where(Moving.Holds).Skip(1).First();
        Write(_giver, ref _giverIndex, Create(MovingKey, "v"));
        Write(_giver, ref _giverIndex, Create(deletedLater, "v"));
        // A first copy, never claimed (its move was given up), then the key deleted at the giver.
        _taker.Apply(new CommittedEntry(++_takerIndex, 1, 0, [], Install: new RangeInstall(2, true, _giver.Freeze())));
        _giver.Thaw();
        Write(_giver, ref _giverIndex, new KvOperation(OperationKind.Delete, deletedLater));

        Move(epoch: 3);

        Assert.Equal(ResultCode.NotFound, _taker.Read(deletedLater).Code);
        Write(_taker, ref _takerIndex, Update(MovingKey, "newer"));
        _taker.Apply(new CommittedEntry(++_takerIndex, 1, 0, [], Install: new RangeInstall(3, true, _giver.Freeze())));
        _giver.Thaw();
        Assert.Equal("newer", Encoding.UTF8.GetString(_taker.Read(MovingKey).Value.Span));
    }

    [Fact]
    public void Two_drivers_copying_one_move_at_once_leave_every_key_however_their_parts_interleave()
    {
        foreach (var key in Keys.Where(Moving.Holds))
            Write(_giver, ref _giverIndex, Create(key, "v"));
        Apply(_giver, ref _giverIndex, new CommittedEntry(0, 1, 0, [], Claim: OwnedRange.Of(After, 0), Fence: Plan));
        var export = RangeExport.Of(_giver.Freeze(), Moving);
        _giver.Thaw();
        Assert.True(export.Parts(200).Count() > 2);

        // A deposed leader's copy gets all but its last part in; the next leader's starts over; the deposed one's last part lands after that.
        InstallAt(_taker, ref _takerIndex, export, 200, 2, i => i < export.Parts(200).Count() - 1);
        InstallAt(_taker, ref _takerIndex, export, 200, 2, i => i == 0);
        InstallAt(_taker, ref _takerIndex, export, 200, 2, i => i == export.Parts(200).Count() - 1);
        Apply(_taker, ref _takerIndex, new CommittedEntry(0, 1, 0, [], Claim: OwnedRange.Of(After, 1)));

        Assert.All(Keys.Where(Moving.Holds), k => Assert.Equal(ResultCode.Ok, _taker.Read(k).Code));
    }

    [Fact]
    public void The_fence_and_the_takers_claim_each_take_a_revision_and_say_who_gave_what_to_whom()
    {
        Write(_giver, ref _giverIndex, Create(MovingKey, "v"));
        var giverBefore = _giver.Revision;
        Apply(_giver, ref _giverIndex, LogRecordFormat.DecodePayload(LogRecordFormat.EncodeFence(Plan.GiverClaim, Plan).Span)!);
        var left = _giver.Handover;
        var export = RangeExport.Of(_giver.Freeze(), Moving);
        _giver.Thaw();
        Write(_taker, ref _takerIndex, Create(Keys.First(k => OwnedRange.Of(Before, 1).Holds(k)), "t"));
        InstallAt(_taker, ref _takerIndex, export, 200, 2);
        Assert.Null(_taker.Handover);
        var restored = KvMap.Restore(SnapshotFormat.Decode(SnapshotFormat.Encode(_taker.Freeze())));
        _taker.Thaw();
        restored.Apply(new CommittedEntry(_takerIndex + 1, 1, 0, [], Claim: Plan.TakerClaim));
        var arrived = restored.Handover;
        restored.Apply(new CommittedEntry(_takerIndex + 2, 1, 0, [], Claim: Plan.TakerClaim));

        Assert.Equal(new RangeHandover(giverBefore + 1, Moving, new WatchHandover(2, 0, 1, giverBefore + 1)), left);
        Assert.Equal(giverBefore + 1, _giver.Revision);
        Assert.Equal(new RangeHandover(giverBefore + 2, Moving, new WatchHandover(2, 0, 1, giverBefore + 1)), arrived);
        Assert.Null(restored.Handover); // the same claim again changes nothing
        Assert.Equal(giverBefore + 2, restored.Revision);
    }

    [Fact]
    public void A_claim_of_another_change_at_the_same_epoch_is_refused_so_no_range_gets_two_owners_or_none()
    {
        // Asked at once: position 0 gives position 1 a range (Plan), and position 1 gives position 0 one (down).
        var down = MovePlan.Boundary(Before, 1, Before.PositionIds[1] - (1UL << 60));
        Apply(_giver, ref _giverIndex, LogRecordFormat.DecodePayload(LogRecordFormat.EncodeFence(Plan.GiverClaim, Plan).Span)!);
        Apply(_taker, ref _takerIndex, LogRecordFormat.DecodePayload(LogRecordFormat.EncodeFence(down.GiverClaim, down).Span)!);

        Apply(_taker, ref _takerIndex, new CommittedEntry(0, 1, 0, [], Claim: Plan.TakerClaim));
        Apply(_giver, ref _giverIndex, new CommittedEntry(0, 1, 0, [], Claim: down.TakerClaim));

        Assert.Equal((down.GiverClaim, true), (_taker.Claim, _taker.Move?.IsSameMove(down)));
        Assert.Equal((Plan.GiverClaim, true), (_giver.Claim, _giver.Move?.IsSameMove(Plan)));
        Assert.Null(_taker.Handover);

        // Each giver's roll-back at that epoch is still taken.
        Apply(_taker, ref _takerIndex, new CommittedEntry(0, 1, 0, [], Claim: down.GiverRollback));
        Assert.Equal((down.GiverRollback, (MovePlan?)null), (_taker.Claim, _taker.Move));
    }

    [Fact]
    public void A_giver_that_takes_its_range_back_says_so_as_giver_and_taker()
    {
        Apply(_giver, ref _giverIndex, LogRecordFormat.DecodePayload(LogRecordFormat.EncodeFence(Plan.GiverClaim, Plan).Span)!);
        var fenced = _giver.Revision;

        Apply(_giver, ref _giverIndex, new CommittedEntry(0, 1, 0, [], Claim: Plan.GiverRollback));

        Assert.Equal(new RangeHandover(fenced + 1, Moving, new WatchHandover(2, 0, 0, fenced + 1)), _giver.Handover);
        Assert.False(_giver.Handover!.Handover.Leaves(0) || _giver.Handover.Handover.Arrives(0));
    }

    [Fact]
    public void A_fence_holds_its_move_through_a_snapshot_refuses_another_until_its_release_and_a_roll_back_ends_it()
    {
        Write(_giver, ref _giverIndex, Create(MovingKey, "v"));
        Apply(_giver, ref _giverIndex, LogRecordFormat.DecodePayload(LogRecordFormat.EncodeFence(Plan.GiverClaim, Plan).Span)!);

        var restored = KvMap.Restore(SnapshotFormat.Decode(SnapshotFormat.Encode(_giver.Freeze())));
        _giver.Thaw();
        Assert.True(restored.Move?.IsSameMove(Plan));
        Assert.Equal(Plan.GiverClaim, restored.Claim);

        var later = MovePlan.Boundary(Plan.After, 1, After.PositionIds[1] + (1UL << 40));
        Apply(_giver, ref _giverIndex, new CommittedEntry(0, 1, 0, [], Claim: later.GiverClaim, Fence: later));
        Assert.True(_giver.Move?.IsSameMove(Plan));
        Assert.Equal(Plan.GiverClaim, _giver.Claim);
        Assert.Contains("in the move to epoch 2 already", _giver.FenceRefused);

        Apply(_giver, ref _giverIndex, new CommittedEntry(0, 1, 0, [], Claim: Plan.GiverRollback));
        Assert.Null(_giver.Move);
        Assert.Equal(ResultCode.Ok, _giver.Read(MovingKey).Code);
    }

    [Fact]
    public void A_fence_that_would_split_a_lease_is_refused_and_changes_nothing()
    {
        var lease = Grant(StayingKey);
        Write(_giver, ref _giverIndex, Create(MovingKey, "v") with { Lease = lease });

        Apply(_giver, ref _giverIndex, new CommittedEntry(0, 1, 0, [], Claim: Plan.GiverClaim, Fence: Plan));

        Assert.Null(_giver.Move);
        Assert.Equal(OwnedRange.Of(Before, 0), _giver.Claim);
        Assert.Contains($"lease {lease} lives with key '{StayingKey}' and holds key '{MovingKey}' on the other side", _giver.FenceRefused);
        Assert.Equal(ResultCode.Ok, _giver.Read(MovingKey).Code);
    }

    [Fact]
    public void A_lease_moves_with_the_key_it_lives_with_and_a_call_naming_its_id_is_sent_on_by_that_key()
    {
        var moving = Keys.Where(Moving.Holds).Take(3).ToList();
        var travels = Grant(moving[0]);
        var empty = Grant(moving[2]); // placed with a moving key, holding none yet
        var stays = Grant(StayingKey);
        Write(_giver, ref _giverIndex, Create(moving[0], "a") with { Lease = travels });
        Write(_giver, ref _giverIndex, Create(moving[1], "b") with { Lease = travels });
        Write(_giver, ref _giverIndex, Create(StayingKey, "s") with { Lease = stays });

        var export = Move(partBytes: 120);

        Assert.Equal(2, export.Leases);
        Assert.Equal([travels, empty], _giver.LeaseChanges.Where(c => c.Kind == LeaseChangeKind.Removed).Select(c => c.Lease).Order());
        Assert.Equal([(travels, 10_000L), (empty, 10_000L)],
            _taker.LeaseChanges.Where(c => c.Kind == LeaseChangeKind.Arrived).Select(c => (c.Lease, c.TtlMs)).Order());
        // Fenced, the giver serves neither moving lease; it names the key each lives with. A key that stays may not join one.
        var atGiver = Write(_giver, ref _giverIndex, KeepAlive(travels));
        Assert.Equal((ResultCode.NotOwner, moving[0]), (atGiver.Code, atGiver.Lease?.PlacedWith));
        Assert.Equal(ResultCode.LeaseNotFound, Write(_giver, ref _giverIndex, Update(StayingKey, "t") with { Lease = travels }).Code);
        Assert.Equal(ResultCode.Ok, Write(_giver, ref _giverIndex, KeepAlive(stays)).Code);
        Assert.Equal(ResultCode.Ok, Write(_taker, ref _takerIndex, KeepAlive(travels)).Code);
        Assert.Equal(moving.Take(2), _taker.ReadLease(new KvOperation(OperationKind.LeaseRead, "", Lease: travels)).Lease!.Keys);
        Assert.Equal([travels, empty], _taker.ServedLeases.Select(l => l.Key).Order());

        // Released, the giver remembers where each went, through a snapshot.
        Apply(_giver, ref _giverIndex, Release());
        var restored = KvMap.Restore(SnapshotFormat.Decode(SnapshotFormat.Encode(_giver.Freeze())));
        _giver.Thaw();
        Assert.Equal([stays], restored.Leases.Keys);
        Assert.Equal(StayingKey, restored.Leases[stays].PlacedWith);
        var named = restored.Apply(new CommittedEntry(_giverIndex + 1, 1, 0, [KeepAlive(empty)]))[0];
        Assert.Equal((ResultCode.NotOwner, moving[2]), (named.Code, named.Lease?.PlacedWith));
        Assert.Equal(ResultCode.LeaseNotFound, restored.ReadLease(new KvOperation(OperationKind.LeaseRead, "", Lease: LeaseIds.Space(0) + 99)).Code);

        // At the taker it ends as any lease: its keys go at one revision.
        var revoked = Write(_taker, ref _takerIndex, new KvOperation(OperationKind.LeaseRevoke, moving[0], Lease: travels));
        Assert.Equal(ResultCode.Ok, revoked.Code);
        Assert.All(moving.Take(2), key => Assert.Equal(ResultCode.NotFound, _taker.Read(key).Code));
        Assert.Equal(ResultCode.NotOwner, Write(_taker, ref _takerIndex, new KvOperation(OperationKind.LeaseRevoke, StayingKey, Lease: stays)).Code);
    }

    [Fact]
    public void A_move_rolled_back_gives_its_leases_back_to_the_giver()
    {
        var lease = Grant(MovingKey);
        Apply(_giver, ref _giverIndex, new CommittedEntry(0, 1, 0, [], Claim: Plan.GiverClaim, Fence: Plan));
        Assert.Equal(ResultCode.NotOwner, Write(_giver, ref _giverIndex, KeepAlive(lease)).Code);

        Apply(_giver, ref _giverIndex, new CommittedEntry(0, 1, 0, [], Claim: Plan.GiverRollback));

        Assert.Equal([new LeaseChange(LeaseChangeKind.Arrived, lease, 10_000, 0, 10_000)], _giver.LeaseChanges);
        Assert.Equal(ResultCode.Ok, Write(_giver, ref _giverIndex, KeepAlive(lease)).Code);
    }

    private long Grant(string placeWith) =>
        Write(_giver, ref _giverIndex, new KvOperation(OperationKind.LeaseGrant, placeWith, LeaseIds.EncodeTtl(10_000), Lease: LeaseIds.Space(0))).Lease!.Id;

    private static KvOperation KeepAlive(long lease) => new(OperationKind.LeaseKeepAlive, "", Lease: lease);

    [Fact]
    public void An_export_of_an_empty_range_still_has_a_part() =>
        Assert.Single(RangeExport.Of(new KvMap().Freeze(), Moving).Parts(1 << 20));

    [Fact]
    public void Merged_sessions_know_every_sequence_either_applied()
    {
        var mine = new ClientSession();
        mine.Remember(1, new OperationResult(ResultCode.Ok, 1));
        mine.Remember(3, new OperationResult(ResultCode.Ok, 3));
        var theirs = new ClientSession();
        theirs.Remember(2, new OperationResult(ResultCode.Ok, 2));

        var merged = mine.Merge(theirs);

        Assert.Equal([new SequenceRange(1, 3)], merged.Applied);
        Assert.Equal([1L, 2, 3], merged.Results.Select(r => r.Result.Version));
        Assert.Null(merged.Settle("c", 4));
    }
}
