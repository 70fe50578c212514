using System.Text.Json;
using System.Text.Json.Serialization;
using KvAspire.Client.Commands;
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
    public void Print(ConsoleCommand command, ConsoleAnswer reply, string? tag = null)
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

    /// <summary>How long work is going: to standard error, so that the answer (text or JSON) stays alone on standard output.</summary>
    public void PrintProgress(string text)
    {
        WriteLine(errors, text);
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

    private static string Text(ConsoleCommand command, ConsoleAnswer reply, string? tag)
    {
        var prefix = tag is null ? "" : $"[{tag}] ";
        if (!reply.IsOk)
            return $"{prefix}error {reply.Status}: {reply.Error}";
        var when = reply.CommittedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        var detail = $"version {reply.Version}, revision {reply.ModRevision}, {when}, hops {reply.Hops}";
        return command.Kind switch
        {
            OperationKind.Read => $"{prefix}{reply.Value} ({detail})",
            OperationKind.Delete => $"{prefix}deleted {command.Key} ({detail})",
            _ => $"{prefix}ok {command.Key} ({detail})",
        };
    }

    private static string Json(ConsoleCommand command, ConsoleAnswer reply, string? tag) =>
        JsonSerializer.Serialize(new JsonAnswer(
            tag, command.Name, command.Key, reply.IsOk,
            reply.IsOk ? null : reply.Status.ToString(), reply.Error,
            command.Kind == OperationKind.Read && reply.IsOk ? reply.Value : null,
            reply.IsOk ? reply.Version : null,
            reply.IsOk ? reply.CommittedAt.ToUnixTimeMilliseconds() : null,
            reply.IsOk ? reply.Hops : null,
            reply.Node,
            reply.IsOk ? reply.ModRevision : null), JsonOptions);

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
        string? Node = null,
        long? ModRevision = null);
}
