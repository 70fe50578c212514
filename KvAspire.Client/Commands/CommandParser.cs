using System.Buffers;
using System.Globalization;
using System.Text;
using KvAspire.Cluster;
using KvAspire.Operations;

namespace KvAspire.Client.Commands;

/// <summary>What a line or a list of words asks for.</summary>
public abstract record ParsedInput
{
    public sealed record Send(ConsoleCommand Command) : ParsedInput;
    public sealed record Invalid(string Error) : ParsedInput;
    public sealed record Help : ParsedInput;
    public sealed record Exit : ParsedInput;
    public sealed record Empty : ParsedInput;
    public sealed record Ring : ParsedInput;
    public sealed record RingMove(int Position, ulong RingId) : ParsedInput;
    public sealed record RingAdd(int Position, ulong? RingId) : ParsedInput;
    public sealed record RingRemove(int Position) : ParsedInput;
    public sealed record WhereIs(string Key) : ParsedInput;
    public sealed record ReplaceReplica(string Node) : ParsedInput;
    public sealed record Backup(string Directory) : ParsedInput;
    public sealed record List(string Prefix) : ParsedInput;
    public sealed record Watch(string Key, bool Prefix) : ParsedInput;
    public sealed record Lease(LeaseAction Action, long Id = 0, TimeSpan Ttl = default, string PlaceWith = "") : ParsedInput;
    public sealed record Txn(KvAspire.Driver.KvTransaction Transaction) : ParsedInput;
}

public enum LeaseAction
{
    Grant,
    KeepAlive,
    Revoke,
    Show,
}

/// <summary>
/// The command language of the console and of one-shot mode, checked before anything is sent:
/// <c>create &lt;key&gt; &lt;value&gt; [--lease &lt;id&gt;]</c>, <c>read &lt;key&gt;</c>,
/// <c>update &lt;key&gt; &lt;value&gt; [expected-version]</c>, <c>delete &lt;key&gt; [expected-version]</c>,
/// <c>list [prefix]</c>, <c>watch &lt;key&gt;</c> or <c>watch --prefix [prefix]</c>, <c>lease grant|keep-alive|revoke|show …</c>, <c>help</c>, <c>sair</c>/<c>exit</c>/<c>quit</c>. Command words are case-insensitive. A value is the
/// rest of the words joined by one space, or one quoted word kept exactly; in update, a last unquoted
/// word that is an integer (with a value before it) is the expected version.
/// </summary>
public sealed partial class CommandParser(int maxValueBytes)
{
    public const string Usage =
        """
          create <key> <value> [--lease id] add a key (fails if it exists); with a lease, it goes when the lease ends
          read <key>                        show a key's value and version
          update <key> <value> [version]    replace a value (only at that version, if given)
          delete <key> [version]            remove a key (only at that version, if given)
          list [prefix]                     the keys under a prefix (all without one), in key order, with values
          lease grant <seconds> <key>       a lease on the position of <key> (or of its {tag}), not kept alive: its id
          lease keep-alive <id>             renew a lease for its whole TTL once
          lease revoke <id>                 end a lease now, deleting its keys
          lease show <id>                   a lease's TTL, time left and keys
          txn [<if> [and <if>]…] then <op>… [else <op>…]
                                            one atomic change of one position: if every <if> holds (<key> exists,
                                            <key> missing, <key> value|version|create|mod =|!=|<|> <word>), the
                                            then ops (put <key> <value>, delete <key>, read <key>), else the else ops
          ring                              positions, their ids and ranges, nodes, which are up
          whereis <key>                     the key's id and the position that owns it
          help                              show this menu
          sair | exit | quit                leave
          watch <key> | watch --prefix [p]  (one-shot only) every change of a key, or of the keys under a prefix,
                                            as it happens, until Ctrl+C
          replace-replica <node>            (one-shot only) after <node> lost its data and started again empty:
                                            its position's leader removes the member it was and adds it anew
          backup <dir>                      (one-shot only) every position's data, from a linearizable point of
                                            each, into a new directory; restore: start a new cluster's nodes with
                                            --restore <dir>
          ring move <position> <ring-id>    (one-shot only) move a position's ring id between its neighbours':
                                            the keys between change hands while both serve; shows the progress
          ring add-position <p> [ring-id]   (one-shot only) add position p (its spares, running) at ring-id (by
                                            default the middle of the widest arc): it takes the keys up to it
          ring remove-position <p>          (one-shot only) the newest position gives its keys to its successor
        A value is the rest of the line; quote it to keep it exactly: update k "room 101"
        """;

    public ParsedInput ParseLine(string line)
    {
        var tokens = Token.Split(line, out var error);
        return tokens is null ? new ParsedInput.Invalid(error!) : Parse(tokens);
    }

    /// <summary>Words from a shell, already unquoted by it: each is one word.</summary>
    public ParsedInput ParseWords(IReadOnlyList<string> words) =>
        Parse(words.Select(w => new Token(w, Quoted: w.Any(char.IsWhiteSpace))).ToList());

    public ParsedInput Parse(IReadOnlyList<Token> tokens)
    {
        if (tokens.Count == 0)
            return new ParsedInput.Empty();
        var word = tokens[0].Text.ToLowerInvariant();
        var args = tokens.Skip(1).ToList();
        return word switch
        {
            "create" => ParseCreate(args),
            "read" => ParseRead(args),
            "update" => ParseUpdate(args),
            "delete" => ParseDelete(args),
            "help" or "menu" or "?" => new ParsedInput.Help(),
            "sair" or "exit" or "quit" => new ParsedInput.Exit(),
            "load" or "bench" => new ParsedInput.Invalid($"{word} is the benchmark harness's: dotnet run --project KvAspire.Bench -c Release -- --help"),
            "list" when args.Count <= 1 => new ParsedInput.List(args.Count == 0 ? "" : args[0].Text),
            "list" => new ParsedInput.Invalid("list takes at most a prefix: list [prefix]"),
            "watch" => ParseWatch(args),
            "lease" => ParseLease(args),
            "txn" => ParseTxn(args),
            "ring" when args.Count == 0 => new ParsedInput.Ring(),
            "ring" => ParseRing(args),
            "whereis" when args.Count == 1 && args[0].Text.Length > 0 => new ParsedInput.WhereIs(args[0].Text),
            "whereis" => new ParsedInput.Invalid("whereis needs exactly one key: whereis <key>"),
            "replace-replica" when args.Count == 1 && args[0].Text.Length > 0 => new ParsedInput.ReplaceReplica(args[0].Text),
            "replace-replica" => new ParsedInput.Invalid("replace-replica needs exactly one node name: replace-replica <node>"),
            "backup" when args.Count == 1 && args[0].Text.Length > 0 => new ParsedInput.Backup(args[0].Text),
            "backup" => new ParsedInput.Invalid("backup needs exactly one directory: backup <dir>"),
            _ => new ParsedInput.Invalid($"unknown command '{tokens[0].Text}'; the commands are create, read, update, delete, list, watch, lease, txn, ring, whereis, backup, help, sair"),
        };
    }

    private static ParsedInput ParseWatch(List<Token> args) => args switch
    {
        [{ Text: "--prefix", Quoted: false }] => new ParsedInput.Watch("", Prefix: true),
        [{ Text: "--prefix", Quoted: false }, var prefix] => new ParsedInput.Watch(prefix.Text, Prefix: true),
        [var key] when key.Text.Length > 0 && (key.Quoted || key.Text != "--prefix") => new ParsedInput.Watch(key.Text, Prefix: false),
        _ => new ParsedInput.Invalid("watch needs one key, or --prefix and at most a prefix: watch <key> | watch --prefix [prefix]"),
    };

    private const string RingUsage =
        "ring | ring move <position> <ring-id> | ring add-position <position> [ring-id] | ring remove-position <position> (ids in decimal, or hex with 0x)";

    private static ParsedInput ParseRing(List<Token> args)
    {
        var verb = args[0].Text.ToLowerInvariant();
        var position = args.Count > 1 ? PositionNumber(args[1].Text) : null;
        var ringId = args.Count > 2 ? RingId(args[2].Text) : null;
        return (verb, args.Count) switch
        {
            ("move" or "add-position", >= 2) when position is null => new ParsedInput.Invalid($"'{args[1].Text}' is not a position number: {RingUsage}"),
            ("remove-position", 2) when position is null => new ParsedInput.Invalid($"'{args[1].Text}' is not a position number: {RingUsage}"),
            ("move" or "add-position", 3) when ringId is null => new ParsedInput.Invalid($"'{args[2].Text}' is not a ring id: {RingUsage}"),
            ("move", 3) => new ParsedInput.RingMove(position!.Value, ringId!.Value),
            ("add-position", 2 or 3) => new ParsedInput.RingAdd(position!.Value, ringId),
            ("remove-position", 2) => new ParsedInput.RingRemove(position!.Value),
            _ => new ParsedInput.Invalid($"ring takes no arguments, or a change: {RingUsage}"),
        };
    }

    private static int? PositionNumber(string text) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;

    private static ulong? RingId(string text) =>
        (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id)) ? id : null;

    private const string LeaseUsage = "lease grant <seconds> <key> | lease keep-alive <id> | lease revoke <id> | lease show <id>";

    private static ParsedInput ParseLease(List<Token> args) => args switch
    {
        [{ Text: var action }, { Text: var seconds }, { Text: var key }] when action.Equals("grant", StringComparison.OrdinalIgnoreCase) =>
            double.TryParse(seconds, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var ttl) && ttl is > 0 and <= LeaseMessages.MaxTtlMs / 1000.0
                ? key.Length > 0 ? new ParsedInput.Lease(LeaseAction.Grant, Ttl: TimeSpan.FromSeconds(ttl), PlaceWith: key) : new ParsedInput.Invalid("the key is empty")
                : new ParsedInput.Invalid($"'{seconds}' is not a TTL: seconds above 0, at most a day"),
        [{ Text: var action }, { Text: var id }] when LeaseActionOf(action) is { } named =>
            LeaseId(id) is { } lease ? new ParsedInput.Lease(named, lease) : BadLease(id),
        _ => new ParsedInput.Invalid($"lease needs an action: {LeaseUsage}"),
    };

    private static LeaseAction? LeaseActionOf(string word) => word.ToLowerInvariant() switch
    {
        "keep-alive" => LeaseAction.KeepAlive,
        "revoke" => LeaseAction.Revoke,
        "show" => LeaseAction.Show,
        _ => null,
    };

    private static long? LeaseId(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && LeaseIds.IsValid(id) ? id : null;

    private static ParsedInput.Invalid BadLease(string text) => new($"'{text}' is not a lease id (as lease grant printed it)");

    private ParsedInput ParseCreate(List<Token> args)
    {
        if (args.Count < 2)
            return new ParsedInput.Invalid("create needs a key and a value: create <key> <value> [--lease <id>]");
        var lease = 0L;
        if (args.Count >= 4 && args[^2] is { Text: "--lease", Quoted: false })
        {
            if (LeaseId(args[^1].Text) is not { } id)
                return BadLease(args[^1].Text);
            lease = id;
            args = args[..^2];
        }
        var built = Build(OperationKind.Create, args[0].Text, JoinValue(args.Skip(1)), null);
        return built is ParsedInput.Send send ? send with { Command = send.Command with { Lease = lease } } : built;
    }

    private ParsedInput ParseRead(List<Token> args)
    {
        if (args.Count != 1)
            return new ParsedInput.Invalid("read needs exactly one key: read <key>");
        return Build(OperationKind.Read, args[0].Text, null, null);
    }

    private ParsedInput ParseUpdate(List<Token> args)
    {
        if (args.Count < 2)
            return new ParsedInput.Invalid("update needs a key and a value: update <key> <value> [expected-version]");
        var valueTokens = args.Skip(1).ToList();
        long? version = null;
        var last = valueTokens[^1];
        if (valueTokens.Count > 1 && !last.Quoted && LooksLikeInteger(last.Text))
        {
            if (ParseVersion(last.Text) is not { } parsed)
                return BadVersion(last.Text);
            version = parsed;
            valueTokens.RemoveAt(valueTokens.Count - 1);
        }
        return Build(OperationKind.Update, args[0].Text, JoinValue(valueTokens), version);
    }

    private ParsedInput ParseDelete(List<Token> args)
    {
        if (args.Count is < 1 or > 2)
            return new ParsedInput.Invalid("delete needs a key and at most a version: delete <key> [expected-version]");
        long? version = null;
        if (args.Count == 2)
        {
            if (ParseVersion(args[1].Text) is not { } parsed)
                return BadVersion(args[1].Text);
            version = parsed;
        }
        return Build(OperationKind.Delete, args[0].Text, null, version);
    }

    private ParsedInput Build(OperationKind kind, string key, string? value, long? version) =>
        Refusal(key, value) is { } refused ? refused : new ParsedInput.Send(new ConsoleCommand(kind, key, value, version));

    /// <summary>Why a key (and value) cannot be sent, if it cannot.</summary>
    private ParsedInput.Invalid? Refusal(string key, string? value)
    {
        if (key.Length == 0)
            return new ParsedInput.Invalid("the key is empty");
        // A lone UTF-16 surrogate has no UTF-8 form: sent, it would silently become U+FFFD.
        if (!IsWholeText(key))
            return new ParsedInput.Invalid("the key holds a lone UTF-16 surrogate, which is not text");
        if (value is not null && !IsWholeText(value))
            return new ParsedInput.Invalid("the value holds a lone UTF-16 surrogate, which is not text");
        var keyBytes = Encoding.UTF8.GetByteCount(key);
        if (keyBytes > ClusterTopology.MaxKeyBytes)
            return new ParsedInput.Invalid($"the key is {keyBytes} bytes; the limit is {ClusterTopology.MaxKeyBytes}");
        if (value is not null && Encoding.UTF8.GetByteCount(value) is var valueBytes && valueBytes > maxValueBytes)
            return new ParsedInput.Invalid($"the value is {valueBytes} bytes; the limit is {maxValueBytes}");
        return null;
    }

    private static bool IsWholeText(string text)
    {
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out _, out var consumed) != OperationStatus.Done)
                return false;
            rest = rest[consumed..];
        }
        return true;
    }

    private static string JoinValue(IEnumerable<Token> tokens) => string.Join(' ', tokens.Select(t => t.Text));

    private static bool LooksLikeInteger(string text) =>
        text.Length > 0 && text.TrimStart('-', '+').Length > 0 && text.TrimStart('-', '+').All(char.IsAsciiDigit);

    private static long? ParseVersion(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version >= 1 ? version : null;

    private static ParsedInput.Invalid BadVersion(string text) =>
        new($"'{text}' is not a version: a version is a whole number from 1 up");
}
