using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>The runner's comparison of the replicas' logs finds planted divergences and accepts real gaps.</summary>
[Trait("Category", "Unit")]
public sealed class ReplicaAgreementTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly TestTopology _topology;

    public ReplicaAgreementTests() => _topology = TestTopology.Ring(_directory, positions: 1, replicas: 3);

    public void Dispose() => _directory.Dispose();

    private void Write(int replica, long log, params (long Index, string Key)[] entries)
    {
        var directory = _topology.DataDirectoryOf(_topology.Nodes[replica]);
        Directory.CreateDirectory(directory);
        using var file = OperationLog.Open(directory, log, 0);
        file.AppendCommitted(entries.Select(e => new CommittedEntry(e.Index, 1, 1000, [new KvOperation(OperationKind.Create, e.Key, Encoding.UTF8.GetBytes("v"))])).ToList());
    }

    [Fact]
    public void Equal_logs_with_the_same_gaps_and_a_replica_that_started_from_a_snapshot_agree()
    {
        // Index 3 is a leader's no-op on every replica; replica 2 installed a snapshot up to 4.
        Write(0, 0, (1, "a"), (2, "b"), (4, "c"), (5, "d"));
        Write(1, 0, (1, "a"), (2, "b"), (4, "c"), (5, "d"));
        Write(2, 0, (1, "a"));
        Write(2, 1, (5, "d"));

        var (disagreements, compared) = ReplicaAgreement.Check(_topology, 0);

        Assert.Empty(disagreements);
        Assert.Equal(4, compared);
    }

    [Fact]
    public void A_different_entry_or_an_entry_only_one_replica_applied_is_a_disagreement()
    {
        // Replica 1 holds another command at 2; replica 2 applied an entry at 3 where the others have a gap.
        Write(0, 0, (1, "a"), (2, "b"), (4, "c"));
        Write(1, 0, (1, "a"), (2, "x"), (4, "c"));
        Write(2, 0, (1, "a"), (2, "b"), (3, "phantom"), (4, "c"));

        var (disagreements, _) = ReplicaAgreement.Check(_topology, 0);

        Assert.Equal(2, disagreements.Count);
        Assert.StartsWith("index 2:", disagreements[0]);
        Assert.StartsWith("index 3:", disagreements[1]);
        Assert.Contains("nothing", disagreements[1]);
    }
}
