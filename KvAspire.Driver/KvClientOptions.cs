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

    /// <summary>The deadline of each call, retries across nodes included.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The nodes to call.</summary>
    /// <exception cref="ArgumentException">No node is given, or the timeout is not positive.</exception>
    public IReadOnlyList<string> Validate()
    {
        if (RequestTimeout <= TimeSpan.Zero)
            throw new ArgumentException($"the request timeout must be positive, not {RequestTimeout}");
        return Nodes.Count > 0 ? [.. Nodes] : throw new ArgumentException("no node to call: give at least one in Nodes");
    }
}
