namespace KvAspire.Driver;

/// <summary>Where the cluster is and how long a call may take.</summary>
public sealed class KvClientOptions
{
    /// <summary>
    /// Nodes to call (<c>host:port</c> or a URL): one is enough, more keep the client going while some are
    /// down. The client learns the rest of the ring from them.
    /// </summary>
    public IList<string> Nodes { get; set; } = [];

    /// <summary>
    /// True (the default): the client learns the ring's layout from the cluster and sends each call straight
    /// to its key's leader. False: every call goes to the nodes given, in turn, which forward it (a client
    /// that should read from one replica, a follower included).
    /// </summary>
    public bool RouteToLeaders { get; set; } = true;

    /// <summary>
    /// The cluster's CA certificate (a PEM file) when the cluster serves TLS: nodes given as <c>host:port</c>
    /// are called over <c>https</c>, and a node is trusted only with a certificate that CA issued for its
    /// host. Null (the default): plaintext, for a development cluster.
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>The deadline of each call, retries across nodes included.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one node may take when there is another to try: longer than a leader election takes, since
    /// past it another node is more likely to answer. The node is given it as its deadline, so it stops
    /// working on the call when the client moves on.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long rounds over every node are repeated while none is available (within <see cref="RequestTimeout"/>).</summary>
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The pause before the second round; each later one doubles it, up to <see cref="MaxRetryPause"/>.</summary>
    public TimeSpan FirstRetryPause { get; set; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan MaxRetryPause { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a watch goes on trying the nodes in turn, from where it stopped, while none serves it (a node
    /// down, a position electing a leader, the whole cluster restarting); past it the watch fails.
    /// </summary>
    public TimeSpan WatchRetryWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The nodes to call.</summary>
    /// <exception cref="ArgumentException">No node is given, or a time is not positive.</exception>
    public IReadOnlyList<string> Validate()
    {
        foreach (var (name, value) in new[] { (nameof(RequestTimeout), RequestTimeout), (nameof(AttemptTimeout), AttemptTimeout),
                     (nameof(RetryWindow), RetryWindow), (nameof(FirstRetryPause), FirstRetryPause), (nameof(MaxRetryPause), MaxRetryPause),
                     (nameof(WatchRetryWindow), WatchRetryWindow) })
        {
            if (value <= TimeSpan.Zero)
                throw new ArgumentException($"{name} must be positive, not {value}");
        }
        return Nodes.Count > 0 ? [.. Nodes] : throw new ArgumentException("no node to call: give at least one in Nodes");
    }
}
