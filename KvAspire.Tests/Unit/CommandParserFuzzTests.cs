using System.Text;
using KvAspire.Client.Commands;
using KvAspire.Cluster;
using KvAspire.Operations;

namespace KvAspire.Tests.Unit;

/// <summary>
/// Hostile input for the client's command language: 10,000 random lines and 10,000 random word lists
/// (command words in any case, boundary numbers, quotes and escapes, odd whitespace, lone surrogates,
/// control characters, very long words), from a fixed seed. Every input gets a command that keeps the
/// limits or a clear error; never an exception. A command sent is the one its line says: written back
/// with quotes, it parses to the same command.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CommandParserFuzzTests
{
    private const int Inputs = 10_000;
    private const int MaxValueBytes = 300;
    private readonly CommandParser _parser = new(MaxValueBytes);

    // The first 11 are command words.
    private static readonly string[] Fragments =
    [
        "create", "READ", "Update", "delete", "help", "sair", "ring", "whereis", "load", "bench", "exit",
        "k", "key-1", "ключ", "🔑", "e\u0301", "\uD800", "\uDC00x", "\0", "\u0001", "\u00A0", "\u2003", "\t",
        "\"", "'", "\\\"", "\\\\", "\"quoted value\"", "'single'", "\"open",
        "0", "1", "-1", "+5", "00012", "１２", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "1e3", "0x10", "NaN",
    ];

    [Fact]
    public void Random_lines_get_a_command_within_the_limits_or_a_clear_error()
    {
        var random = new Random(7101);
        var sent = 0;
        for (var input = 0; input < Inputs; input++)
        {
            var line = RandomLine(random);
            var parsed = Parse(() => _parser.ParseLine(line), line);
            Assert.Equal(parsed, _parser.ParseLine(line));
            if (parsed is ParsedInput.Send { Command: var command })
            {
                sent++;
                AssertWithinLimits(command, line);
                Assert.Equal(parsed, _parser.ParseLine(Quoted(command)));
            }
        }
        // The generator reaches commands that are sent, not only errors.
        Assert.True(sent > Inputs / 20, $"only {sent} of {Inputs} lines were commands");
    }

    [Fact]
    public void Random_shell_words_get_a_command_within_the_limits_or_a_clear_error()
    {
        var random = new Random(7102);
        for (var input = 0; input < Inputs; input++)
        {
            var words = Enumerable.Range(0, random.Next(0, 5)).Select(_ => RandomWord(random)).ToList();
            var description = string.Join(" | ", words);
            if (Parse(() => _parser.ParseWords(words), description) is ParsedInput.Send { Command: var command })
                AssertWithinLimits(command, description);
        }
    }

    private static ParsedInput Parse(Func<ParsedInput> parse, string input)
    {
        ParsedInput parsed;
        try
        {
            parsed = parse();
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{Escape(input)}: {e.GetType().Name}: {e.Message}");
        }
        if (parsed is ParsedInput.Invalid { Error: var error })
            Assert.False(string.IsNullOrWhiteSpace(error), $"{Escape(input)}: an error without a message");
        return parsed;
    }

    private static void AssertWithinLimits(ConsoleCommand command, string input)
    {
        var what = Escape(input);
        Assert.True(command.Key.Length > 0, $"{what}: empty key sent");
        Assert.True(IsText(command.Key) && (command.Value is null || IsText(command.Value)), $"{what}: a lone surrogate would be sent");
        Assert.True(Encoding.UTF8.GetByteCount(command.Key) <= ClusterTopology.MaxKeyBytes, $"{what}: key over the limit sent");
        Assert.True(command.Value is null || Encoding.UTF8.GetByteCount(command.Value) <= MaxValueBytes, $"{what}: value over the limit sent");
        Assert.True(command.ExpectedVersion is null or >= 1, $"{what}: version {command.ExpectedVersion} sent");
        Assert.Equal(command.Value is null, command.Kind is OperationKind.Read or OperationKind.Delete);
    }

    private static bool IsText(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (char.IsSurrogate(text[i]))
                return false;
        }
        return true;
    }

    /// <summary>The command written back as a line, key and value in double quotes.</summary>
    private static string Quoted(ConsoleCommand command)
    {
        static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
        var line = $"{command.Name} {Quote(command.Key)}";
        if (command.Value is not null)
            line += " " + Quote(command.Value);
        return command.ExpectedVersion is { } version ? $"{line} {version}" : line;
    }

    private static string RandomLine(Random random)
    {
        var line = new StringBuilder();
        // Most lines start with a command word (in any case), so that their arguments get parsed too.
        if (random.Next(10) < 7)
            line.Append(Fragments[random.Next(11)]).Append(' ');
        var words = random.Next(0, 6);
        for (var i = 0; i < words; i++)
        {
            line.Append(RandomWord(random));
            line.Append(random.Next(8) switch { 0 => "", 1 => "\t", 2 => "  ", _ => " " });
        }
        return line.ToString();
    }

    private static string RandomWord(Random random) => random.Next(10) switch
    {
        0 => new string((char)random.Next(0x21, 0x7F), random.Next(1, 1100)),
        1 => new string(Enumerable.Range(0, random.Next(1, 12)).Select(_ => (char)random.Next(0, 0xFFFF)).ToArray()),
        2 => random.NextInt64(long.MinValue, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => Fragments[random.Next(Fragments.Length)],
    };

    private static string Escape(string input) =>
        string.Concat(input.Take(200).Select(c => c < 0x20 || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString()));
}
