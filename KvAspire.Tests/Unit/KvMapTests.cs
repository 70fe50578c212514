using System.Text;
using KvAspire.Node.Storage;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class KvMapTests
{
    private readonly KvMap _map = new();
    private long _index;

    private OperationResult Apply(OperationKind kind, string key, string? value = null, long? expected = null, ClientRequestId? id = null) =>
        _map.Apply(new LogEntry(++_index, 0, 1000 + _index, new KvCommand(kind, key, Encoding.UTF8.GetBytes(value ?? ""), expected, id)));

    [Fact]
    public void Create_then_read_gives_version_1_and_the_commit_timestamp()
    {
        var created = Apply(OperationKind.Create, "a", "1");
        var read = _map.Read("a");

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
        Assert.Equal("1", Encoding.UTF8.GetString(_map.Read("a").Value.Span));
    }

    [Fact]
    public void Read_of_a_missing_key_is_not_found()
    {
        Assert.Equal(ResultCode.NotFound, _map.Read("nope").Code);
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
        Assert.Equal("z", Encoding.UTF8.GetString(_map.Read("a").Value.Span));
    }

    [Theory]
    [InlineData(OperationKind.Update)]
    [InlineData(OperationKind.Delete)]
    public void Update_or_delete_of_a_missing_key_is_not_found(OperationKind kind)
    {
        Assert.Equal(ResultCode.NotFound, Apply(kind, "nope", "v").Code);
        Assert.Equal(0, _map.Count);
    }

    [Fact]
    public void Delete_removes_the_key_and_checks_the_expected_version()
    {
        Apply(OperationKind.Create, "a", "1");

        Assert.Equal(ResultCode.VersionMismatch, Apply(OperationKind.Delete, "a", expected: 7).Code);
        Assert.Equal(ResultCode.Ok, Apply(OperationKind.Delete, "a", expected: 1).Code);
        Assert.Equal(ResultCode.NotFound, _map.Read("a").Code);
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
        Assert.Equal(2, _map.Read("a").Version);
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
        Assert.Equal(ResultCode.NotFound, _map.Read("a").Code);
    }

    [Fact]
    public void A_request_older_than_the_remembered_window_is_refused_rather_than_applied()
    {
        for (ulong sequence = 1; sequence <= ClientResults.Capacity + 1; sequence++)
            Apply(OperationKind.Create, $"k{sequence}", "v", id: new ClientRequestId("c", sequence));

        var tooOld = Apply(OperationKind.Create, "k1-again", "v", id: new ClientRequestId("c", 1));
        var stillKnown = Apply(OperationKind.Create, "k2", "other", id: new ClientRequestId("c", 2));

        Assert.Equal(ResultCode.RequestTooOld, tooOld.Code);
        Assert.Equal(ResultCode.NotFound, _map.Read("k1-again").Code);
        Assert.Equal(ResultCode.Ok, stillKnown.Code);
    }

    [Fact]
    public void Entries_at_or_below_the_applied_index_are_skipped()
    {
        var entry = new LogEntry(1, 0, 5, new KvCommand(OperationKind.Create, "a", "1"u8.ToArray()));
        _map.Apply(entry);

        var replayed = _map.Apply(entry with { Command = entry.Command with { Key = "b" } });

        Assert.Equal(ResultCode.AlreadyApplied, replayed.Code);
        Assert.Equal(1, _map.Count);
        Assert.Equal(1, _map.AppliedIndex);
    }

    [Fact]
    public void A_frozen_view_keeps_the_state_of_its_moment_while_writes_and_retries_go_on()
    {
        var id = new ClientRequestId("client", 1);
        Apply(OperationKind.Create, "a", "1", id: id);
        Apply(OperationKind.Create, "b", "2");

        var view = _map.Freeze();
        Apply(OperationKind.Update, "a", "changed");
        Apply(OperationKind.Delete, "b");
        Apply(OperationKind.Create, "c", "3", id: new ClientRequestId("client", 2));
        var retry = Apply(OperationKind.Create, "a", "1", id: id);

        Assert.Equal(2, view.LastIndex);
        Assert.Equal(["a", "b"], view.Values.Keys.Order());
        Assert.Equal(1, view.Values["a"].Version);
        Assert.Equal([1UL], view.Clients["client"].Results.Select(r => r.Sequence));
        Assert.Equal(ResultCode.Ok, retry.Code);
        Assert.Equal(2, _map.Read("a").Version);
        Assert.Equal(ResultCode.NotFound, _map.Read("b").Code);

        _map.Thaw();

        Assert.Equal(2, _map.Count);
        Assert.Equal("changed", Encoding.UTF8.GetString(_map.Read("a").Value.Span));
        Assert.Equal(ResultCode.Ok, Apply(OperationKind.Create, "x", "y", id: new ClientRequestId("client", 2)).Code);
        Assert.Equal(ResultCode.NotFound, _map.Read("x").Code);
    }

    [Fact]
    public void Clients_silent_for_an_hour_are_forgotten_at_the_next_sweep_and_active_ones_kept()
    {
        var hour = (long)ClientResults.ForgetAfter.TotalMilliseconds;
        OperationResult At(long index, long timestamp, string key, string client, ulong sequence) =>
            _map.Apply(new LogEntry(index, 0, timestamp, new KvCommand(OperationKind.Create, key, "v"u8.ToArray(), null, new ClientRequestId(client, sequence))));

        var first = At(1, 0, "old-key", "silent", 1);
        At(2, hour, "new-key", "active", 1);
        for (var index = 3L; index < KvMap.SweepInterval; index++)
            _map.Apply(new LogEntry(index, 0, hour + 1, new KvCommand(OperationKind.Create, $"filler{index}", default)));
        Assert.Equal(2, _map.ClientCount);

        _map.Apply(new LogEntry(KvMap.SweepInterval, 0, hour + 1, new KvCommand(OperationKind.Create, "sweep", default)));
        Assert.Equal(1, _map.ClientCount);
        var lateRetry = At(KvMap.SweepInterval + 1, hour + 2, "old-key", "silent", 1);

        Assert.Equal(ResultCode.Ok, first.Code);
        Assert.Equal(ResultCode.AlreadyExists, lateRetry.Code);
        Assert.Equal(2, _map.ClientCount);
        Assert.Equal(ResultCode.Ok, At(KvMap.SweepInterval + 2, hour + 3, "new-key", "active", 1).Code);
    }
}
