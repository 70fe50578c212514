using KvAspire.Cluster;
using KvAspire.Node.Configuration;

namespace KvAspire.Tests.Unit;

/// <summary>
/// The node's timeouts come from one place: those that depend on the election timeout follow it, and a
/// combination that cannot work is refused at start with the setting named.
/// </summary>
[Trait("Category", "Unit")]
public sealed class NodeOptionsTests
{
    private static NodeOptions At(int electionMs) => new NodeOptions { ElectionTimeout = TimeSpan.FromMilliseconds(electionMs), AdmittedRequests = 8192 }.Validate();

    [Fact]
    public void At_the_default_election_timeout_a_request_has_5_s_and_a_hand_off_to_the_leader_two_upper_election_timeouts()
    {
        var options = At(600);
        Assert.Equal(TimeSpan.FromMilliseconds(1200), options.UpperElectionTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(2400), options.LeaderHandOffTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.RequestTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(600), options.RaftConnectTimeout);
    }

    [Fact]
    public void A_longer_election_timeout_lengthens_the_request_timeout_so_that_two_hand_offs_still_fit()
    {
        var options = At(5000);
        Assert.Equal(TimeSpan.FromSeconds(20), options.LeaderHandOffTimeout);
        Assert.Equal(TimeSpan.FromSeconds(40), options.RequestTimeout);
    }

    [Fact]
    public void A_raft_message_has_half_an_upper_election_and_a_snapshot_that_much_more_per_4_MiB_up_to_the_cap()
    {
        var options = At(600);
        Assert.Equal(TimeSpan.FromMilliseconds(600), options.RaftMessageTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(600), options.SnapshotSendTimeout(0));
        Assert.Equal(TimeSpan.FromMilliseconds(8600), options.SnapshotSendTimeout(32L * 1024 * 1024));
        Assert.Equal(options.RaftSnapshotTimeoutCap, options.SnapshotSendTimeout(64L * 1024 * 1024 * 1024));
        Assert.Equal(options.RaftSnapshotTimeoutCap, options.SnapshotSendTimeout(null));
    }

    [Fact]
    public void The_shortest_election_timeout_the_topology_allows_still_works() =>
        Assert.Equal(TimeSpan.FromSeconds(5), At(50).RequestTimeout);

    [Fact]
    public void A_retransmission_floor_near_the_election_timeout_is_refused_naming_both()
    {
        var error = Assert.Throws<TopologyException>(() =>
            new NodeOptions { ElectionTimeout = TimeSpan.FromMilliseconds(600), AdmittedRequests = 8192, RaftRetransmitFloor = TimeSpan.FromMilliseconds(200) }.Validate());
        Assert.Contains("retransmission floor (200 ms)", error.Message);
        Assert.Contains("election timeout (600 ms)", error.Message);
    }

    [Fact]
    public void Retry_pauses_that_do_not_grow_are_refused() =>
        Assert.Throws<TopologyException>(() => new NodeOptions
        {
            ElectionTimeout = TimeSpan.FromMilliseconds(600),
            AdmittedRequests = 8192,
            FirstRetryBackoff = TimeSpan.FromMilliseconds(500),
            MaxRetryBackoff = TimeSpan.FromMilliseconds(100),
        }.Validate());
}
