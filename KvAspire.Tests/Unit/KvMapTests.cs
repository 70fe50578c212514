using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class KvMapTests : AppliedMap
{
    [Fact]
    public void Create_then_read_gives_version_1_and_the_commit_timestamp()
    {
        var created = Apply(OperationKind.Create, "a", "1");
        var read = Map.Read("a");

        Assert.Equal(new OperationResult(ResultCode.Ok, 1, 1001), created);
        Assert.Equal(ResultCode.Ok, read.Code);
        Assert.Equal("1", Encoding.UTF8.GetString(read.Value.Span));
        Assert.Equal(1, read.Version);
        Assert.Equal(1001, read.TimestampUnixMs);
    }

    [Fact]
    public void Create_of_an_existing_key_is_already_exists_and_changes_nothing()
    {
        Apply(OperationKind.Create, "a", "1");
        var again = Apply(OperationKind.Create, "a", "2");

        Assert.Equal(ResultCode.AlreadyExists, again.Code);
        Assert.Equal("1", Encoding.UTF8.GetString(Map.Read("a").Value.Span));
    }

    [Fact]
    public void Read_of_a_missing_key_is_not_found()
    {
        Assert.Equal(ResultCode.NotFound, Map.Read("nope").Code);
    }

    [Fact]
    public void Update_increments_the_version_and_checks_the_expected_one()
    {
        Apply(OperationKind.Create, "a", "1");

        Assert.Equal(2, Apply(OperationKind.Update, "a", "x", expected: 1).Version);
        var stale = Apply(OperationKind.Update, "a", "y", expected: 1);
        Assert.Equal(3, Apply(OperationKind.Update, "a", "z").Version);

        Assert.Equal(ResultCode.VersionMismatch, stale.Code);
        Assert.Equal(2, stale.Version);
        Assert.Equal("z", Encoding.UTF8.GetString(Map.Read("a").Value.Span));
    }

    [Theory]
    [InlineData(OperationKind.Update)]
    [InlineData(OperationKind.Delete)]
    public void Update_or_delete_of_a_missing_key_is_not_found(OperationKind kind)
    {
        Assert.Equal(ResultCode.NotFound, Apply(kind, "nope", "v").Code);
        Assert.Equal(0, Map.Count);
    }

    [Fact]
    public void Delete_removes_the_key_and_checks_the_expected_version()
    {
        Apply(OperationKind.Create, "a", "1");

        Assert.Equal(ResultCode.VersionMismatch, Apply(OperationKind.Delete, "a", expected: 7).Code);
        Assert.Equal(ResultCode.Ok, Apply(OperationKind.Delete, "a", expected: 1).Code);
        Assert.Equal(ResultCode.NotFound, Map.Read("a").Code);
        Assert.Equal(1, Apply(OperationKind.Create, "a", "again").Version);
    }

    [Fact]
    public void A_retried_request_id_returns_the_first_result_without_applying_twice()
    {
        var id = new ClientRequestId("client", 5);
        Apply(OperationKind.Create, "a", "1");

        var first = Apply(OperationKind.Update, "a", "x", id: id);
        var retry = Apply(OperationKind.Update, "a", "x", id: id);

        Assert.Equal(first, retry);
        Assert.Equal(2, Map.Read("a").Version);
    }

    [Fact]
    public void A_retried_failure_is_remembered_too()
    {
        var id = new ClientRequestId("client", 1);
        Apply(OperationKind.Create, "a", "1");

        var first = Apply(OperationKind.Create, "a", "2", id: id);
        Apply(OperationKind.Delete, "a");
        var retry = Apply(OperationKind.Create, "a", "2", id: id);

        Assert.Equal(ResultCode.AlreadyExists, retry.Code);
        Assert.Equal(first, retry);
        Assert.Equal(ResultCode.NotFound, Map.Read("a").Code);
    }

    [Fact]
    public void A_thousand_updates_of_one_client_arriving_in_shuffled_order_are_each_applied_once_and_none_refused()
    {
        Apply(OperationKind.Create, "chain", "v0");
        var order = Enumerable.Range(1, 1000).Select(s => (ulong)s).OrderBy(_ => Random.Shared.Next()).ToList();
        var results = order.ToDictionary(s => s, s => Apply(OperationKind.Update, "chain", $"v{s}", id: new ClientRequestId("pipelined", s)));
        var retries = order.ToDictionary(s => s, s => Apply(OperationKind.Update, "chain", $"again{s}", id: new ClientRequestId("pipelined", s)));

        Assert.All(results.Values, r => Assert.Equal(ResultCode.Ok, r.Code));
        Assert.Equal(Enumerable.Range(2, 1000).Select(v => (long)v), results.Values.Select(r => r.Version).Order());
        Assert.Equal(results, retries);
        var stored = Map.Read("chain");
        Assert.Equal(1001, stored.Version);
        Assert.Equal($"v{order[^1]}", Encoding.UTF8.GetString(stored.Value.Span));
    }

    [Fact]
    public void A_retry_of_an_applied_request_whose_result_is_no_longer_kept_is_refused_saying_it_was_applied()
    {
        for (ulong sequence = 1; sequence <= ClientSession.Window + 1; sequence++)
            Apply(OperationKind.Create, $"k{sequence}", "v", id: new ClientRequestId("c", sequence));
        Apply(OperationKind.Delete, "k1");

        var retry = Apply(OperationKind.Create, "k1", "v", id: new ClientRequestId("c", 1));
        var stillKept = Apply(OperationKind.Create, "k2", "other", id: new ClientRequestId("c", 2));

        Assert.Equal(ResultCode.ResultForgotten, retry.Code);
        Assert.Contains("c/1 was already applied", retry.Detail);
        Assert.Equal(ResultCode.NotFound, Map.Read("k1").Code);
        Assert.Equal(ResultCode.Ok, stillKept.Code);
    }

    [Fact]
    public void A_request_that_arrives_long_after_its_client_ran_ahead_applies_while_within_the_window()
    {
        // Sequence 1 is late; every other odd sequence is never sent: one gap each.
        ApplyEvenSequencesUpTo(2 * (ulong)ClientSession.Window - 2);

        var late = Apply(OperationKind.Create, "late", "v", id: new ClientRequestId("c", 1));

        Assert.Equal(ResultCode.Ok, late.Code);
        Assert.Equal(ResultCode.Ok, Map.Read("late").Code);
    }

    [Fact]
    public void A_request_below_more_gaps_than_the_window_is_refused_as_too_old_and_not_applied()
    {
        ApplyEvenSequencesUpTo(2 * (ulong)ClientSession.Window + 2);

        var tooOld = Apply(OperationKind.Create, "late", "v", id: new ClientRequestId("c", 1));
        var recentGap = Apply(OperationKind.Create, "recent", "v", id: new ClientRequestId("c", 2 * (ulong)ClientSession.Window + 1));

        Assert.Equal(ResultCode.RequestTooOld, tooOld.Code);
        Assert.Contains("not applied", tooOld.Detail);
        Assert.Equal(ResultCode.NotFound, Map.Read("late").Code);
        Assert.Equal(ResultCode.Ok, recentGap.Code);
    }

    private void ApplyEvenSequencesUpTo(ulong last)
    {
        for (ulong sequence = 2; sequence <= last; sequence += 2)
            Apply(OperationKind.Create, $"k{sequence}", "v", id: new ClientRequestId("c", sequence));
    }

    [Fact]
    public void Sparse_sequences_such_as_timestamps_are_tracked_exactly()
    {
        var sequences = new ulong[] { 1_764_000_000_123, 1_764_000_000_777, 1_764_000_000_500, ulong.MaxValue, 0 };
        foreach (var sequence in sequences)
            Assert.Equal(ResultCode.Ok, Apply(OperationKind.Create, $"k{sequence}", "v", id: new ClientRequestId("c", sequence)).Code);

        foreach (var sequence in sequences)
            Assert.Equal(ResultCode.Ok, Apply(OperationKind.Create, $"k{sequence}", "again", id: new ClientRequestId("c", sequence)).Code);
        Assert.Equal(ResultCode.Ok, Apply(OperationKind.Create, "between", "v", id: new ClientRequestId("c", 1_764_000_000_124)).Code);
        Assert.Equal(sequences.Length + 1, Map.Count);
    }

    [Fact]
    public void Entries_at_or_below_the_applied_index_are_skipped()
    {
        var entry = new CommittedEntry(1, 0, 5, [new KvOperation(OperationKind.Create, "a", "1"u8.ToArray())]);
        Map.Apply(entry);

        var replayed = Map.Apply(entry with { Operations = [entry.Operations[0] with { Key = "b" }] }).Single();

        Assert.Equal(ResultCode.AlreadyApplied, replayed.Code);
        Assert.Equal(1, Map.Count);
        Assert.Equal(1, Map.AppliedIndex);
    }

    [Fact]
    public void A_frozen_view_keeps_the_state_of_its_moment_while_writes_and_retries_go_on()
    {
        var id = new ClientRequestId("client", 1);
        Apply(OperationKind.Create, "a", "1", id: id);
        Apply(OperationKind.Create, "b", "2");

        var view = Map.Freeze();
        Apply(OperationKind.Update, "a", "changed");
        Apply(OperationKind.Delete, "b");
        Apply(OperationKind.Create, "c", "3", id: new ClientRequestId("client", 2));
        var retry = Apply(OperationKind.Create, "a", "1", id: id);

        Assert.Equal(2, view.LastIndex);
        Assert.Equal(["a", "b"], view.Values.Keys.Order());
        Assert.Equal(1, view.Values["a"].Version);
        Assert.Equal([1UL], view.Clients["client"].Results.Select(r => r.Sequence));
        Assert.Equal(ResultCode.Ok, retry.Code);
        Assert.Equal(2, Map.Read("a").Version);
        Assert.Equal(ResultCode.NotFound, Map.Read("b").Code);

        Map.Thaw();

        Assert.Equal(2, Map.Count);
        Assert.Equal("changed", Encoding.UTF8.GetString(Map.Read("a").Value.Span));
        Assert.Equal(ResultCode.Ok, Apply(OperationKind.Create, "x", "y", id: new ClientRequestId("client", 2)).Code);
        Assert.Equal(ResultCode.NotFound, Map.Read("x").Code);
    }

    [Fact]
    public void Clients_silent_for_an_hour_are_forgotten_at_the_next_sweep_and_active_ones_kept()
    {
        var hour = (long)ClientSession.ForgetAfter.TotalMilliseconds;
        OperationResult At(long index, long timestamp, string key, string client, ulong sequence) =>
            Map.Apply(new CommittedEntry(index, 0, timestamp, [new KvOperation(OperationKind.Create, key, "v"u8.ToArray(), null, new ClientRequestId(client, sequence))])).Single();

        var first = At(1, 0, "old-key", "silent", 1);
        At(2, hour, "new-key", "active", 1);
        for (var index = 3L; index < KvMap.SweepInterval; index++)
            Map.Apply(new CommittedEntry(index, 0, hour + 1, [new KvOperation(OperationKind.Create, $"filler{index}", default)]));
        Assert.Equal(2, Map.ClientCount);

        Map.Apply(new CommittedEntry(KvMap.SweepInterval, 0, hour + 1, [new KvOperation(OperationKind.Create, "sweep", default)]));
        Assert.Equal(1, Map.ClientCount);
        var lateRetry = At(KvMap.SweepInterval + 1, hour + 2, "old-key", "silent", 1);

        Assert.Equal(ResultCode.Ok, first.Code);
        Assert.Equal(ResultCode.AlreadyExists, lateRetry.Code);
        Assert.Equal(2, Map.ClientCount);
        Assert.Equal(ResultCode.Ok, At(KvMap.SweepInterval + 2, hour + 3, "new-key", "active", 1).Code);
    }

    [Fact]
    public void Before_the_baseline_nothing_is_numbered_and_at_it_every_key_takes_revision_1()
    {
        Apply(OperationKind.Create, "a", "1");
        Apply(OperationKind.Create, "b", "1");
        Apply(OperationKind.Update, "a", "2");
        var before = Map.Read("a");

        Baseline();

        Assert.Equal((0L, 0L, 0L), (before.CreateRevision, before.ModRevision, before.Revision));
        Assert.Equal(1, Map.Revision);
        foreach (var key in new[] { "a", "b" })
            Assert.Equal((1L, 1L, 1L), (Map.Read(key).CreateRevision, Map.Read(key).ModRevision, Map.Read(key).Revision));
        Assert.Equal(2, Map.Read("a").Version);
    }

    [Fact]
    public void Each_change_takes_the_next_revision_and_a_key_keeps_its_create_revision()
    {
        Baseline();

        var created = Apply(OperationKind.Create, "a", "1");
        var other = Apply(OperationKind.Create, "b", "1");
        var updated = Apply(OperationKind.Update, "a", "2");
        var deleted = Apply(OperationKind.Delete, "b");
        var recreated = Apply(OperationKind.Create, "b", "again");

        Assert.Equal((2L, 2L, 2L), (created.CreateRevision, created.ModRevision, created.Revision));
        Assert.Equal((3L, 3L), (other.CreateRevision, other.ModRevision));
        Assert.Equal((2L, 4L, 4L, 2L), (updated.CreateRevision, updated.ModRevision, updated.Revision, updated.Version));
        Assert.Equal((3L, 5L, 5L), (deleted.CreateRevision, deleted.ModRevision, deleted.Revision));
        Assert.Equal((6L, 6L, 1L), (recreated.CreateRevision, recreated.ModRevision, recreated.Version));
        Assert.Equal((2L, 4L, 6L), (Map.Read("a").CreateRevision, Map.Read("a").ModRevision, Map.Read("a").Revision));
    }

    [Fact]
    public void Refused_writes_take_no_revision_and_report_the_key_as_it_is()
    {
        Baseline();
        Apply(OperationKind.Create, "a", "1");

        var exists = Apply(OperationKind.Create, "a", "again");
        var mismatch = Apply(OperationKind.Update, "a", "x", expected: 7);
        var missing = Apply(OperationKind.Delete, "nope");

        Assert.Equal((ResultCode.AlreadyExists, 2L, 2L, 2L), (exists.Code, exists.CreateRevision, exists.ModRevision, exists.Revision));
        Assert.Equal((ResultCode.VersionMismatch, 2L, 2L), (mismatch.Code, mismatch.ModRevision, mismatch.Revision));
        Assert.Equal((ResultCode.NotFound, 0L, 2L), (missing.Code, missing.ModRevision, missing.Revision));
        Assert.Equal(2, Map.Revision);
    }

    [Fact]
    public void Writes_of_one_entry_each_take_their_own_revision_and_a_retry_answers_its_first_revisions()
    {
        Baseline();
        var id = new ClientRequestId("c", 1);
        var results = Map.Apply(new CommittedEntry(NextIndex(), 0, 5, [
            new KvOperation(OperationKind.Create, "a", "1"u8.ToArray(), null, id),
            new KvOperation(OperationKind.Create, "b", "1"u8.ToArray()),
            new KvOperation(OperationKind.Update, "a", "2"u8.ToArray()),
        ]));
        var retry = Apply(OperationKind.Create, "a", "1", id: id);

        Assert.Equal([2L, 3L, 4L], results.Select(result => result.ModRevision));
        Assert.Equal(results[0], retry);
        Assert.Equal(4, Map.Revision);
    }

    [Fact]
    public void A_second_baseline_changes_nothing()
    {
        Baseline();
        Apply(OperationKind.Create, "a", "1");

        Baseline();

        Assert.Equal(2, Map.Revision);
        Assert.Equal((2L, 2L), (Map.Read("a").CreateRevision, Map.Read("a").ModRevision));
    }

    [Fact]
    public void Replicas_restored_from_snapshots_at_different_points_agree_on_every_revision_after_replay()
    {
        var entries = new List<CommittedEntry>();
        for (var i = 1; i <= 40; i++)
        {
            entries.Add(i == 15
                ? new CommittedEntry(i, 1, 0, [], StartsRevisions: true)
                : new CommittedEntry(i, 1, 100 + i, [
                    new KvOperation(i % 7 == 0 ? OperationKind.Delete : i % 3 == 0 ? OperationKind.Update : OperationKind.Create, $"k{i % 5}", "v"u8.ToArray()),
                    new KvOperation(OperationKind.Create, $"n{i}", "v"u8.ToArray()),
                ]));
        }
        KvMap ReplicaFrom(int snapshotAfter)
        {
            var source = new KvMap();
            foreach (var entry in entries.Take(snapshotAfter))
                source.Apply(entry);
            using var stream = new MemoryStream();
            SnapshotFormat.Write(stream, 1, source.Freeze());
            var replica = KvMap.Restore(SnapshotFormat.Read(new MemoryStream(stream.ToArray()), stream.Length).Snapshot);
            foreach (var entry in entries.Skip(snapshotAfter))
                replica.Apply(entry);
            return replica;
        }
        string State(KvMap map) => string.Join(" ", Enumerable.Range(0, 5).Select(k => $"k{k}").Concat(Enumerable.Range(1, 40).Select(n => $"n{n}"))
            .Select(key => map.Read(key)).Select(read => $"{read.Code}/{read.Version}/{read.CreateRevision}/{read.ModRevision}")) + $" @{map.Revision}";

        var states = new[] { 0, 10, 14, 15, 16, 30, 40 }.Select(ReplicaFrom).Select(State).ToList();

        Assert.All(states, state => Assert.Equal(states[0], state));
        Assert.Contains("Ok/1/1/1", states[0]);
    }

    private string Changes() => string.Join(" ", Map.Changes.Select(change =>
        $"{change.Kind}:{change.Key}={Encoding.UTF8.GetString(change.Kv.Value.Span)}@{change.Revision}/v{change.Kv.Version}" +
        (change.Previous is { } was ? $"<{Encoding.UTF8.GetString(was.Value.Span)}/v{was.Version}@{was.ModRevision}" : "")));

    [Fact]
    public void Each_change_is_an_event_with_the_key_after_and_before_it_and_refused_or_settled_writes_are_none()
    {
        Apply(OperationKind.Create, "early", "0");
        Assert.Equal("", Changes()); // before the baseline nothing is numbered, so nothing is watched
        Baseline();
        Assert.Equal("", Changes());

        Apply(OperationKind.Create, "a", "1");
        Assert.Equal("Put:a=1@2/v1", Changes());
        Apply(OperationKind.Update, "a", "2", id: new ClientRequestId("c", 1));
        Assert.Equal("Put:a=2@3/v2<1/v1@2", Changes());
        Apply(OperationKind.Update, "a", "2", id: new ClientRequestId("c", 1));
        Assert.Equal("", Changes()); // a retry answers its first result and changes nothing
        Apply(OperationKind.Create, "a", "again");
        Assert.Equal("", Changes());
        Apply(OperationKind.Update, "a", "3", expected: 7);
        Assert.Equal("", Changes());
        Apply(OperationKind.Delete, "a");
        Assert.Equal("Delete:a=@4/v0<2/v2@3", Changes());
        Txn(new Transaction([], [Put("x", "1"), Put("early", "1"), new TransactionOp(TransactionOpKind.Read, "x"), new TransactionOp(TransactionOpKind.Delete, "early")], []));
        Assert.Equal("Put:x=1@5/v1 Put:early=1@5/v2<0/v1@1 Delete:early=@5/v0<1/v2@5", Changes());
    }
}
