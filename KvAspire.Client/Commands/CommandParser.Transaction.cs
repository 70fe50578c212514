using System.Globalization;
using KvAspire.Driver;
using KvAspire.Operations;

namespace KvAspire.Client.Commands;

/// <summary>
/// <c>txn</c>: conditions, then <c>then</c> and its operations, then optionally <c>else</c> and its own, as words:
/// <c>txn {acct}a value = 10 and {acct}b missing then put {acct}a 0 put {acct}b 10 else read {acct}a</c>. A value
/// is one word (quote it to hold spaces); a quoted <c>then</c>, <c>else</c> or <c>and</c> is a key or value.
/// </summary>
public sealed partial class CommandParser
{
    private const string TxnUsage =
        "txn [<key> exists|missing|value|version|create|mod …] [and …] then put <key> <value>|delete <key>|read <key> … [else …]";

    private ParsedInput ParseTxn(List<Token> args)
    {
        var transaction = new KvTransaction();
        var at = 0;
        var parts = 0;
        while (at < args.Count && !IsWord(args[at], "then"))
        {
            if (parts > 0 && IsWord(args[at], "and"))
                at++;
            if (ParseCondition(args, ref at, transaction) is { } refused)
                return refused;
            parts++;
        }
        if (at == args.Count)
            return new ParsedInput.Invalid($"txn needs 'then' and at least one operation: {TxnUsage}");
        at++;
        var inElse = false;
        var operations = 0;
        while (at < args.Count)
        {
            if (!inElse && IsWord(args[at], "else"))
            {
                if (operations == 0)
                    return new ParsedInput.Invalid("txn needs at least one operation after 'then'");
                (inElse, at) = (true, at + 1);
                continue;
            }
            if (ParseOperation(args, ref at, transaction, inElse) is { } refused)
                return refused;
            operations++;
            parts++;
        }
        if (operations == 0)
            return new ParsedInput.Invalid($"txn needs at least one operation after 'then': {TxnUsage}");
        return parts > OperationMessages.MaxTxnParts
            ? new ParsedInput.Invalid($"txn has {parts} conditions and operations; the limit is {OperationMessages.MaxTxnParts}")
            : new ParsedInput.Txn(transaction);
    }

    private ParsedInput.Invalid? ParseCondition(List<Token> args, ref int at, KvTransaction transaction)
    {
        if (at + 1 >= args.Count)
            return new ParsedInput.Invalid($"txn: a condition is <key> exists|missing or <key> value|version|create|mod =|!=|<|> <word>: {TxnUsage}");
        var key = args[at].Text;
        var target = args[at + 1].Text.ToLowerInvariant();
        if (Refusal(key, null) is { } refused)
            return refused;
        if (target is "exists" or "missing")
        {
            _ = target == "exists" ? transaction.IfExists(key) : transaction.IfMissing(key);
            at += 2;
            return null;
        }
        if (target is not ("value" or "version" or "create" or "mod"))
            return new ParsedInput.Invalid($"txn: '{args[at + 1].Text}' is not something to compare: exists, missing, value, version, create or mod");
        if (at + 3 >= args.Count)
            return new ParsedInput.Invalid($"txn: the condition on '{key}' needs a comparison and a word: {key} {target} = <word>");
        var result = args[at + 2].Text switch
        {
            "=" or "==" => CompareResult.Equal,
            "!=" => CompareResult.NotEqual,
            "<" => CompareResult.Less,
            ">" => (CompareResult?)CompareResult.Greater,
            _ => null,
        };
        if (result is not { } compare)
            return new ParsedInput.Invalid($"txn: '{args[at + 2].Text}' is not a comparison: =, !=, < or >");
        var operand = args[at + 3].Text;
        at += 4;
        if (target == "value")
        {
            if (Refusal(key, operand) is { } badValue)
                return badValue;
            transaction.IfValue(key, compare, operand);
            return null;
        }
        if (!long.TryParse(operand, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            return new ParsedInput.Invalid($"txn: '{operand}' is not a {target}: a whole number from 0 up");
        _ = target switch
        {
            "version" => transaction.IfVersion(key, compare, number),
            "create" => transaction.IfCreateRevision(key, compare, number),
            _ => transaction.IfModRevision(key, compare, number),
        };
        return null;
    }

    private ParsedInput.Invalid? ParseOperation(List<Token> args, ref int at, KvTransaction transaction, bool inElse)
    {
        var kind = args[at].Text.ToLowerInvariant();
        var words = kind == "put" ? 3 : 2;
        if (kind is not ("put" or "delete" or "read") || args[at].Quoted)
            return new ParsedInput.Invalid($"txn: '{args[at].Text}' is not an operation: put <key> <value>, delete <key> or read <key>");
        if (at + words > args.Count)
            return new ParsedInput.Invalid($"txn: {kind} needs {(kind == "put" ? "a key and a value" : "a key")}");
        var key = args[at + 1].Text;
        var value = kind == "put" ? args[at + 2].Text : null;
        at += words;
        if (Refusal(key, value) is { } refused)
            return refused;
        _ = (kind, inElse) switch
        {
            ("put", false) => transaction.ThenPut(key, value!),
            ("put", true) => transaction.ElsePut(key, value!),
            ("delete", false) => transaction.ThenDelete(key),
            ("delete", true) => transaction.ElseDelete(key),
            (_, false) => transaction.ThenRead(key),
            _ => transaction.ElseRead(key),
        };
        return null;
    }

    private static bool IsWord(Token token, string word) => !token.Quoted && token.Text.Equals(word, StringComparison.OrdinalIgnoreCase);
}
