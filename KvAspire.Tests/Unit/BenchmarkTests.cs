using KvAspire.Bench;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class BenchmarkTests
{
    [Fact]
    public void Uniform_choice_covers_every_key_about_evenly()
    {
        var chooser = new KeyChooser(100, zipfian: false);
        var random = new Random(1);

        var counts = new int[100];
        for (var i = 0; i < 100_000; i++)
            counts[chooser.Next(random)]++;

        Assert.All(counts, count => Assert.InRange(count, 800, 1200));
    }

    [Fact]
    public void Zipfian_choice_stays_in_range_and_favours_a_few_keys()
    {
        var chooser = new KeyChooser(10_000, zipfian: true);
        var random = new Random(2);

        var counts = new Dictionary<long, int>();
        for (var i = 0; i < 200_000; i++)
        {
            var key = chooser.Next(random);
            Assert.InRange(key, 0, 9_999);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }

        var hottest100 = counts.Values.OrderDescending().Take(100).Sum();
        Assert.True(hottest100 > 0.4 * 200_000, $"the 100 hottest keys got {hottest100} of 200000 choices");
        Assert.True(counts.Count > 3_000, $"only {counts.Count} distinct keys were chosen");
        var hottest = counts.MaxBy(c => c.Value).Key;
        Assert.NotEqual(0, hottest);
    }

    [Theory]
    [InlineData("A", 0.50, true)]
    [InlineData("b", 0.95, true)]
    [InlineData("C", 1.00, true)]
    [InlineData("READ", 1.00, false)]
    [InlineData("write", 0.00, false)]
    public void Workloads_have_the_YCSB_mixes(string name, double reads, bool zipfian)
    {
        var workload = Workload.Find(name);

        Assert.NotNull(workload);
        Assert.Equal((reads, zipfian), (workload.ReadFraction, workload.ZipfianByDefault));
        var random = new Random(3);
        var observed = Enumerable.Range(0, 20_000).Count(_ => workload.NextIsRead(random)) / 20_000.0;
        Assert.InRange(observed, reads - 0.02, reads + 0.02);
    }

    [Fact]
    public void An_unknown_workload_is_not_found()
    {
        Assert.Null(Workload.Find("Z"));
    }
}
