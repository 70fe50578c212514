namespace KvAspire.Node.Consensus;

/// <summary>
/// DotNext's Raft logs a replication to a member that ends by cancellation or disposal as "The unexpected
/// exception occurred", at Error: a leader that steps down, a member removed, or a connection torn down
/// by a stop ends it so, and the HTTP client's cancellation does not carry the token DotNext checks. Nothing
/// is wrong then, and an Error line says something is: DotNext's logger logs those at Warning (with the
/// exception). Every other entry keeps its level.
/// </summary>
public static class RaftTeardownLogging
{
    /// <summary>
    /// DotNext's cluster (registered by <c>ConfigureLocalNode</c> as its internal type), built by its own
    /// factory with a logger that logs teardowns at Warning.
    /// </summary>
    public static IServiceCollection LogRaftTeardownsAsWarnings(this IServiceCollection services)
    {
        const string clusterType = "DotNext.Net.Cluster.Consensus.Raft.Http.RaftHttpCluster";
        var cluster = services.SingleOrDefault(service => service.ServiceType.FullName == clusterType && service.ImplementationFactory is not null)
            ?? throw new InvalidOperationException($"DotNext no longer registers {clusterType} by a factory: RaftTeardownLogging needs updating for this release");
        var create = cluster.ImplementationFactory!;
        services.Remove(cluster);
        services.Add(ServiceDescriptor.Singleton(cluster.ServiceType, provider =>
            create(new WithLoggerFactory(provider, new TeardownAsWarningFactory(provider.GetRequiredService<ILoggerFactory>())))));
        return services;
    }

    private static bool IsTeardown(Exception? exception) => exception is OperationCanceledException or ObjectDisposedException;

    private sealed class WithLoggerFactory(IServiceProvider services, ILoggerFactory loggers) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(ILoggerFactory) ? loggers : services.GetService(serviceType);
    }

    private sealed class TeardownAsWarningFactory(ILoggerFactory loggers) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => new TeardownAsWarning(loggers.CreateLogger(categoryName));

        public void AddProvider(ILoggerProvider provider) => loggers.AddProvider(provider);

        public void Dispose()
        {
            // The host owns the factory it wraps.
        }
    }

    private sealed class TeardownAsWarning(ILogger logger) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logger.Log(logLevel == LogLevel.Error && IsTeardown(exception) ? LogLevel.Warning : logLevel, eventId, state, exception, formatter);
    }
}
