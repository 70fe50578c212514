using DotNext.Net.Cluster.Consensus.Raft.Membership;
using KvAspire.Node.Membership;
using KvAspire.Tests.Support;
using Microsoft.AspNetCore.Connections;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class MemberListFileTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static readonly Uri[] Founders =
        [new("http://10.0.0.1:7100/raft"), new("http://10.0.0.2:7100/raft"), new("http://node-c.example:7100/raft")];

    [Fact]
    public async Task The_seeded_membership_is_what_the_storage_loads()
    {
        var path = _directory.File("members");
        MemberListFile.Seed(path, Founders);
        using var storage = new MemberListFile(path);
        var loaded = await ((IClusterConfigurationStorage<UriEndPoint>)storage).LoadConfigurationAsync();
        Assert.Equal(Founders.Select(f => f.ToString()).Order(), loaded.Members.Select(m => m.Uri.ToString()).Order());
    }

    [Fact]
    public async Task A_change_replaces_the_seed_and_a_second_seed_changes_nothing()
    {
        var path = _directory.File("members");
        MemberListFile.Seed(path, Founders);
        var replacement = new UriEndPoint(new Uri("http://node-c.example:7100/raft/0a1b2c3d"));
        using (var storage = new MemberListFile(path))
        {
            var typed = (IClusterConfigurationStorage<UriEndPoint>)storage;
            var changed = (await typed.LoadConfigurationAsync()).Remove(new UriEndPoint(Founders[2])).Add(replacement);
            Assert.True(await ((IClusterConfigurationStorage)storage).SaveConfigurationAsync(changed, 42));
        }
        MemberListFile.Seed(path, Founders);

        using var reopened = new MemberListFile(path);
        var loaded = await ((IClusterConfigurationStorage<UriEndPoint>)reopened).LoadConfigurationAsync();
        Assert.Equal([Founders[0].ToString(), Founders[1].ToString(), replacement.Uri.ToString()], loaded.Members.Select(m => m.Uri.ToString()).Order());
    }
}
