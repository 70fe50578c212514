using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Routing;

namespace KvAspire.Tests.Unit;

/// <summary>
/// A position's claim in its map: once a claim entry is applied, a key outside the range is neither read
/// nor changed (nor remembered as done: its owner must still run it), the claim travels in the log and in
/// snapshots, and a claim of an older epoch does not undo a newer one.
/// </summary>
[Trait("Category", "Unit")]
public sealed class KvMapClaimTests
{
    // Two positions, evenly spaced, 64-bit ids: position 1 owns [0, 2^63 - 1].
    private static readonly RingMath Ring = new(64, 2);
    private static readonly OwnedRange Position1 = new(1, 64, false, null, Ring.PositionId(1));
    private readonly KvMap _map = new();
    private long _index;

    private static readonly string Mine = Enumerable.Range(0, 100).Select(i => $"k{i}").First(k => Ring.OwnerOfKey(k) == 1);
    private static readonly string Theirs = Enumerable.Range(0, 100).Select(i => $"k{i}").First(k => Ring.OwnerOfKey(k) == 0);
    private static readonly string AlsoTheirs = Enumerable.Range(0, 100).Select(i => $"k{i}").Last(k => Ring.OwnerOfKey(k) == 0);

    private OperationResult Apply(KvOperation operation) => _map.Apply(new CommittedEntry(++_index, 1, 1000 + _index, [operation]))[0];

    private void Claim(OwnedRange range) => _map.Apply(new CommittedEntry(++_index, 1, 0, [], Claim: range));

    private static KvOperation Create(string key, ClientRequestId? id = null) => new(OperationKind.Create, key, Encoding.UTF8.GetBytes("v"), null, id);

    [Fact]
    public void Before_a_claim_every_key_is_served_and_after_it_only_the_claimed_ones()
    {
        Assert.Equal(ResultCode.Ok, Apply(Create(Theirs)).Code);

        Claim(Position1);

        Assert.Equal(Position1, _map.Claim);
        Assert.Equal(ResultCode.Ok, Apply(Create(Mine)).Code);
        Assert.Equal(ResultCode.NotOwner, Apply(Create(AlsoTheirs)).Code);
        Assert.Equal(ResultCode.NotOwner, _map.Read(Theirs).Code);
        Assert.Contains($"key '{Theirs}' is not in this position's range [0, 0x7fffffffffffffff] at epoch 1", _map.Read(Theirs).Detail);
        Assert.Equal(ResultCode.NotOwner, Apply(new KvOperation(OperationKind.Update, Theirs, "w"u8.ToArray())).Code);
        Assert.Equal(ResultCode.NotOwner, Apply(new KvOperation(OperationKind.Delete, Theirs)).Code);
        var txn = new Transaction([], [new TransactionOp(TransactionOpKind.Put, Mine, "1"u8.ToArray()), new TransactionOp(TransactionOpKind.Read, Theirs)], []);
        Assert.Equal(ResultCode.NotOwner, Apply(new KvOperation(OperationKind.Txn, Mine, Txn: txn)).Code);
        Assert.Equal(1, _map.Read(Mine).Version);
    }

    [Fact]
    public void A_refused_write_is_not_remembered_so_its_retry_runs_once_the_key_is_owned()
    {
        Claim(Position1);
        var id = new ClientRequestId("c", 1);
        Assert.Equal(ResultCode.NotOwner, Apply(Create(Theirs, id)).Code);

        Claim(new OwnedRange(2, 64, false, null, Ring.MaxId));

        Assert.Equal(ResultCode.Ok, Apply(Create(Theirs, id)).Code);
        Assert.Equal(1, Apply(Create(Theirs, id)).Version);
    }

    [Fact]
    public void The_revision_read_names_no_key_and_is_answered_whatever_the_claim()
    {
        _map.Apply(new CommittedEntry(++_index, 1, 0, [], StartsRevisions: true));
        Apply(Create(Mine));
        Claim(Position1);
        Assert.False(Position1.Holds("")); // the empty key's identifier is position 0's

        var read = _map.Read("");

        Assert.NotEqual(ResultCode.NotOwner, read.Code);
        Assert.Equal(2, read.Revision);
    }

    [Fact]
    public void A_claim_of_an_older_epoch_changes_nothing()
    {
        var newer = new OwnedRange(3, 64, false, null, Ring.MaxId);
        Claim(newer);
        Claim(Position1);

        Assert.Equal(newer, _map.Claim);
    }

    [Fact]
    public void A_claim_travels_in_the_log_and_in_a_snapshot()
    {
        var wrapping = new OwnedRange(4, 10, true, 1000, 20);
        var decoded = LogRecordFormat.DecodePayload(LogRecordFormat.EncodeClaim(wrapping).Span);
        Assert.Equal(wrapping, decoded!.Claim);
        Assert.Empty(decoded.Operations);
        var broken = LogRecordFormat.EncodeClaim(wrapping).ToArray();
        broken[24 + 9] = 65; // 65-bit ids
        Assert.Null(LogRecordFormat.DecodePayload(broken));

        Claim(wrapping);
        using var stream = new MemoryStream();
        SnapshotFormat.Write(stream, 1, _map.Freeze());
        var restored = KvMap.Restore(SnapshotFormat.Read(new MemoryStream(stream.ToArray()), stream.Length).Snapshot);
        Assert.Equal(wrapping, restored.Claim);
        using var none = new MemoryStream();
        SnapshotFormat.Write(none, 1, new KvMap().Freeze());
        Assert.Null(SnapshotFormat.Read(new MemoryStream(none.ToArray()), none.Length).Snapshot.Claim);
    }
}
