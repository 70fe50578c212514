using System.Text.Json;
using System.Text.Json.Serialization;
using KvAspire.Client.Commands;
using KvAspire.Client.Load;
using KvAspire.Driver.Transport;
using KvAspire.Operations;

namespace KvAspire.Client.Shell;

/// <summary>
/// Writes answers as text (successes to standard output, errors to standard error) or as one JSON
/// object per line. Safe to call from several threads: each answer is written whole.
/// </summary>
public sealed class ReplyPrinter(TextWriter output, TextWriter errors, bool json)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly Lock _lock = new();
    private string? _shownPrompt;

    /// <summary>Prints the answer to <paramref name="command"/>; <paramref name="tag"/> names it in the console.</summary>
    public void Print(ConsoleCommand command, Reply reply, string? tag = null)
    {
        var text = json ? Json(command, reply, tag) : Text(command, reply, tag);
        WriteLine(json || reply.IsOk ? output : errors, text);
    }

    public void PrintError(string message, string? tag = null)
    {
        var text = json
            ? JsonSerializer.Serialize(new JsonAnswer(tag, null, null, false, "InvalidInput", message), JsonOptions)
            : tag is null ? $"error: {message}" : $"[{tag}] error: {message}";
        WriteLine(json ? output : errors, text);
    }

    /// <summary>The final line of <c>load</c> or <c>bench</c>: throughput, latency percentiles, failures.</summary>
    public void PrintReport(string command, string what, LoadReport report)
    {
        var text = json
            ? JsonSerializer.Serialize(new
            {
                command, what, ok = report.Failures.Count == 0, succeeded = report.Succeeded,
                seconds = report.Elapsed.TotalSeconds, opsPerSecond = report.OpsPerSecond,
                meanMs = report.Mean, p50Ms = report.P50, p90Ms = report.P90, p99Ms = report.P99, p999Ms = report.P999, maxMs = report.Max,
                failures = report.Failures.ToDictionary(f => f.Key.ToString(), f => f.Value),
            }, JsonOptions)
            : $"{command} {what}: {report.Succeeded:N0} ok in {report.Elapsed.TotalSeconds:F1} s = {report.OpsPerSecond:N0} ops/s; " +
              $"latency ms mean {report.Mean:F2}  p50 {report.P50:F2}  p90 {report.P90:F2}  p99 {report.P99:F2}  p99.9 {report.P999:F2}  max {report.Max:F2}" +
              (report.Failures.Count == 0 ? "" : $"; failures: {string.Join(", ", report.Failures.Select(f => $"{f.Key} {f.Value}"))}");
        WriteLine(output, text);
    }

    /// <summary>Prints <paramref name="text"/>, or <paramref name="jsonValue"/> as JSON (nothing when it is null).</summary>
    public void PrintResult(string text, object? jsonValue)
    {
        if (json && jsonValue is null)
            return;
        var line = json ? JsonSerializer.Serialize(jsonValue, JsonOptions) : text;
        WriteLine(output, line);
    }

    public void PrintLine(string text)
    {
        WriteLine(output, text);
    }

    /// <summary>Shows the console's prompt; answers printed while it is shown go above it.</summary>
    public void PrintPrompt(string prompt)
    {
        if (json)
            return;
        lock (_lock)
        {
            output.Write(prompt);
            output.Flush();
            _shownPrompt = prompt;
        }
    }

    /// <summary>The user ended the line after the prompt: the cursor is at the start of a new line.</summary>
    public void PromptAnswered()
    {
        lock (_lock)
            _shownPrompt = null;
    }

    private void WriteLine(TextWriter target, string text)
    {
        lock (_lock)
        {
            if (_shownPrompt is null)
            {
                target.WriteLine(text);
                return;
            }
            // Clear the prompt's line, print the answer, then show the prompt again below it.
            output.Write("\r\u001b[K");
            output.Flush();
            target.WriteLine(text);
            target.Flush();
            output.Write(_shownPrompt);
            output.Flush();
        }
    }

    private static string Text(ConsoleCommand command, Reply reply, string? tag)
    {
        var prefix = tag is null ? "" : $"[{tag}] ";
        if (!reply.IsOk)
            return $"{prefix}error {reply.Status}: {reply.Error}";
        var when = DateTimeOffset.FromUnixTimeMilliseconds(reply.TimestampUnixMs).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        var detail = $"version {reply.Version}, {when}, hops {reply.Hops}";
        return command.Kind switch
        {
            OperationKind.Read => $"{prefix}{reply.Text} ({detail})",
            OperationKind.Delete => $"{prefix}deleted {command.Key} ({detail})",
            _ => $"{prefix}ok {command.Key} ({detail})",
        };
    }

    private static string Json(ConsoleCommand command, Reply reply, string? tag) =>
        JsonSerializer.Serialize(new JsonAnswer(
            tag, command.Name, command.Key, reply.IsOk,
            reply.IsOk ? null : reply.Status.ToString(), reply.Error,
            command.Kind == OperationKind.Read && reply.IsOk ? reply.Text : null,
            reply.IsOk ? reply.Version : null,
            reply.IsOk ? reply.TimestampUnixMs : null,
            reply.IsOk ? reply.Hops : null,
            reply.Node), JsonOptions);

    private sealed record JsonAnswer(
        string? Tag,
        string? Command,
        string? Key,
        bool Ok,
        string? Code = null,
        string? Error = null,
        string? Value = null,
        long? Version = null,
        long? TimestampUnixMs = null,
        int? Hops = null,
        string? Node = null);
}
