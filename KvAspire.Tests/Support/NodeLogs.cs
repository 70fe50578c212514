using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace KvAspire.Tests.Support;

/// <summary>
/// The console output of the resources under Aspire testing, as the testing host forwards it to its own logging
/// (category <c>{AppHost}.Resources.{resource}</c>, one line each): add it with <c>AddProvider</c> before building.
/// </summary>
public sealed partial class NodeLogs : ILoggerProvider
{
    private const string ResourcesCategory = ".Resources.";
    private readonly ConcurrentQueue<(string Resource, string Line)> _lines = new();

    /// <summary>The resources that logged a line containing <paramref name="text"/>.</summary>
    public IReadOnlySet<string> Logged(string text) =>
        _lines.Where(entry => entry.Line.Contains(text, StringComparison.Ordinal)).Select(entry => entry.Resource).ToHashSet();

    /// <summary>The lines of <paramref name="resources"/> that begin an entry logged at Error or Critical, each named by its resource.</summary>
    public IReadOnlyList<string> Errors(IEnumerable<string> resources)
    {
        var named = resources.ToHashSet();
        return _lines.Where(entry => named.Contains(entry.Resource) && ErrorEntry().IsMatch(entry.Line)).Select(entry => $"{entry.Resource}: {entry.Line}").ToList();
    }

    public ILogger CreateLogger(string categoryName) =>
        categoryName.IndexOf(ResourcesCategory, StringComparison.Ordinal) is var at and >= 0
            ? new ResourceLogger(this, categoryName[(at + ResourcesCategory.Length)..])
            : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    // Colours stripped: the resources write through a terminal that keeps them.
    private void Add(string resource, string line) => _lines.Enqueue((resource, Colour().Replace(line, "")));

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex Colour();

    // The console logger's first line of an entry: "fail: Category[id]" (Error), "crit: …" (Critical).
    [GeneratedRegex(@"(^|\s)(fail|crit): ")]
    private static partial Regex ErrorEntry();

    private sealed class ResourceLogger(NodeLogs logs, string resource) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.Add(resource, formatter(state, exception));
    }
}
