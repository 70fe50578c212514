using KvAspire.Driver;

namespace KvAspire.Tests.Unit;

/// <summary>The client library's options: the nodes to call and its retry policy, every number refused when it cannot work.</summary>
[Trait("Category", "Unit")]
public sealed class KvClientOptionsTests
{
    [Fact]
    public void The_default_retry_policy_tries_another_node_after_two_seconds_and_repeats_rounds_for_three()
    {
        var options = new KvClientOptions { Nodes = ["127.0.0.1:7000"] };

        Assert.Equal(["127.0.0.1:7000"], options.Validate());
        Assert.Equal((TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(3)),
            (options.RequestTimeout, options.AttemptTimeout, options.RetryWindow));
        Assert.Equal((TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1)), (options.FirstRetryPause, options.MaxRetryPause));
    }

    [Theory]
    [InlineData(nameof(KvClientOptions.RequestTimeout))]
    [InlineData(nameof(KvClientOptions.AttemptTimeout))]
    [InlineData(nameof(KvClientOptions.RetryWindow))]
    [InlineData(nameof(KvClientOptions.FirstRetryPause))]
    [InlineData(nameof(KvClientOptions.MaxRetryPause))]
    public void A_time_that_is_not_positive_is_refused_by_name(string name)
    {
        var options = new KvClientOptions { Nodes = ["127.0.0.1:7000"] };
        typeof(KvClientOptions).GetProperty(name)!.SetValue(options, TimeSpan.Zero);

        Assert.StartsWith($"{name} must be positive", Assert.Throws<ArgumentException>(() => options.Validate()).Message);
    }

    [Fact]
    public void No_node_is_refused()
    {
        Assert.Contains("no node to call", Assert.Throws<ArgumentException>(() => new KvClientOptions().Validate()).Message);
    }
}
