using KvAspire.Node.Ring;
using KvAspire.Node.Storage;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class KeyPlacementRecordTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string DataDirectory => _directory.File("p0r0");

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(true, "tags")]
    [InlineData(false, "whole-keys")]
    public void A_new_data_directory_records_the_topology_s_placement_and_keeps_it(bool placementTags, string recorded)
    {
        KeyPlacementRecord.Check(DataDirectory, placementTags);

        Assert.Equal(recorded, File.ReadAllText(Path.Combine(DataDirectory, KeyPlacementRecord.FileName)).Trim());
        KeyPlacementRecord.Check(DataDirectory, placementTags);
        var refused = Assert.Throws<IOException>(() => KeyPlacementRecord.Check(DataDirectory, !placementTags));
        Assert.Contains($"PlacementTags: {(!placementTags).ToString().ToLowerInvariant()}", refused.Message);
    }

    [Fact]
    public void Data_written_before_placement_tags_existed_was_placed_by_whole_keys()
    {
        Directory.CreateDirectory(DataDirectory);
        File.WriteAllBytes(Path.Combine(DataDirectory, DataFiles.LogName(0)), [1, 2, 3]);

        var refused = Assert.Throws<IOException>(() => KeyPlacementRecord.Check(DataDirectory, placementTags: true));

        Assert.Contains("placed by the whole key", refused.Message);
        Assert.False(File.Exists(Path.Combine(DataDirectory, KeyPlacementRecord.FileName)));
        KeyPlacementRecord.Check(DataDirectory, placementTags: false);
        Assert.Equal("whole-keys", File.ReadAllText(Path.Combine(DataDirectory, KeyPlacementRecord.FileName)).Trim());
    }
}
