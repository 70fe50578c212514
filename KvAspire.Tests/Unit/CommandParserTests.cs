using KvAspire.Client.Commands;
using KvAspire.Operations;

namespace KvAspire.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class CommandParserTests
{
    private readonly CommandParser _parser = new(maxValueBytes: 32);

    private ConsoleCommand Sent(string line) => Assert.IsType<ParsedInput.Send>(_parser.ParseLine(line)).Command;

    private string Error(string line) => Assert.IsType<ParsedInput.Invalid>(_parser.ParseLine(line)).Error;

    [Theory]
    [InlineData("ring move 1 0xbfffffffffffffff", 1, 0xBFFF_FFFF_FFFF_FFFFUL)]
    [InlineData("RING Move 3 12345", 3, 12345UL)]
    public void A_ring_move_names_a_position_and_a_ring_id_in_decimal_or_hex(string line, int position, ulong ringId) =>
        Assert.Equal(new ParsedInput.RingMove(position, ringId), _parser.ParseLine(line));

    [Fact]
    public void Adding_a_position_takes_a_ring_id_or_none_and_removing_one_takes_none()
    {
        Assert.Equal(new ParsedInput.RingAdd(4, null), _parser.ParseLine("ring add-position 4"));
        Assert.Equal(new ParsedInput.RingAdd(4, 0x10UL), _parser.ParseLine("ring add-position 4 0x10"));
        Assert.Equal(new ParsedInput.RingRemove(4), _parser.ParseLine("ring remove-position 4"));
    }

    [Theory]
    [InlineData("create a 1", OperationKind.Create, "a", "1", null)]
    [InlineData("CREATE k hello   big world", OperationKind.Create, "k", "hello big world", null)]
    [InlineData("create k \"  spaced  exactly \"", OperationKind.Create, "k", "  spaced  exactly ", null)]
    [InlineData("create 'my key' 'it''s'", OperationKind.Create, "my key", "it s", null)]
    [InlineData("Read a", OperationKind.Read, "a", null, null)]
    [InlineData("update a x 1", OperationKind.Update, "a", "x", 1L)]
    [InlineData("update k new text 3", OperationKind.Update, "k", "new text", 3L)]
    [InlineData("update k \"room 101\"", OperationKind.Update, "k", "room 101", null)]
    [InlineData("update k room \"101\"", OperationKind.Update, "k", "room 101", null)]
    [InlineData("update k 5", OperationKind.Update, "k", "5", null)]
    [InlineData("update k \"say \\\"hi\\\"\"", OperationKind.Update, "k", "say \"hi\"", null)]
    [InlineData("delete a", OperationKind.Delete, "a", null, null)]
    [InlineData("DELETE a 12", OperationKind.Delete, "a", null, 12L)]
    public void Parses_a_valid_line(string line, OperationKind kind, string key, string? value, long? version)
    {
        Assert.Equal(new ConsoleCommand(kind, key, value, version), Sent(line));
    }

    [Theory]
    [InlineData("frobnicate", "unknown command 'frobnicate'")]
    [InlineData("create a", "create needs a key and a value")]
    [InlineData("create", "create needs a key and a value")]
    [InlineData("read", "read needs exactly one key")]
    [InlineData("read a b", "read needs exactly one key")]
    [InlineData("update a", "update needs a key and a value")]
    [InlineData("update a x 0", "'0' is not a version")]
    [InlineData("update a x -2", "'-2' is not a version")]
    [InlineData("update a x 99999999999999999999", "is not a version")]
    [InlineData("delete", "delete needs a key and at most a version")]
    [InlineData("delete a 1 2", "delete needs a key and at most a version")]
    [InlineData("delete a x", "'x' is not a version")]
    [InlineData("delete a 1.5", "'1.5' is not a version")]
    [InlineData("read \"\"", "the key is empty")]
    [InlineData("create k \"unclosed", "unclosed \" quote")]
    [InlineData("create k 123456789012345678901234567890123", "the value is 33 bytes; the limit is 32")]
    [InlineData("ring x", "ring takes no arguments, or a change")]
    [InlineData("ring move 1", "ring takes no arguments, or a change")]
    [InlineData("ring remove-position 1 2", "ring takes no arguments, or a change")]
    [InlineData("ring add-position x", "'x' is not a position number")]
    [InlineData("ring move -1 5", "'-1' is not a position number")]
    [InlineData("ring move 1 0xg", "'0xg' is not a ring id")]
    [InlineData("ring move 1 18446744073709551616", "is not a ring id")]
    [InlineData("whereis", "whereis needs exactly one key")]
    [InlineData("whereis a b", "whereis needs exactly one key")]
    [InlineData("list a b", "list takes at most a prefix")]
    [InlineData("watch", "watch needs one key, or --prefix")]
    [InlineData("watch a b", "watch needs one key, or --prefix")]
    [InlineData("watch --prefix a b", "watch needs one key, or --prefix")]
    [InlineData("lease", "lease needs an action")]
    [InlineData("lease grant 0 k", "'0' is not a TTL")]
    [InlineData("lease grant 86401 k", "'86401' is not a TTL")]
    [InlineData("lease renew 5", "lease needs an action")]
    [InlineData("lease revoke 0", "'0' is not a lease id")]
    [InlineData("lease show 4294967296", "'4294967296' is not a lease id")]
    [InlineData("create k v --lease x", "'x' is not a lease id")]
    [InlineData("txn", "txn needs 'then'")]
    [InlineData("txn a exists", "txn needs 'then'")]
    [InlineData("txn then", "at least one operation after 'then'")]
    [InlineData("txn then else read a", "at least one operation after 'then'")]
    [InlineData("txn a size = 1 then read a", "'size' is not something to compare")]
    [InlineData("txn a version ~ 1 then read a", "'~' is not a comparison")]
    [InlineData("txn a version = x then read a", "'x' is not a version")]
    [InlineData("txn a version = then read a", "'then' is not a version")]
    [InlineData("txn a then read a", "'then' is not something to compare")]
    [InlineData("txn a", "a condition is <key> exists|missing")]
    [InlineData("txn then put a", "put needs a key and a value")]
    [InlineData("txn then get a", "'get' is not an operation")]
    [InlineData("txn then read a else read b else read c", "'else' is not an operation")]
    [InlineData("txn then put a 123456789012345678901234567890123", "the value is 33 bytes")]
    public void Rejects_an_invalid_line_saying_why(string line, string expected)
    {
        Assert.Contains(expected, Error(line));
    }

    [Fact]
    public void Rejects_a_key_over_1_KiB()
    {
        Assert.Contains("the key is 1025 bytes; the limit is 1024", Error($"read {new string('k', 1025)}"));
        Assert.Equal(1024, Sent($"read {new string('k', 1024)}").Key.Length);
    }

    [Theory]
    [InlineData("sair")]
    [InlineData("EXIT")]
    [InlineData("quit")]
    public void Exit_words_end_the_session(string line)
    {
        Assert.IsType<ParsedInput.Exit>(_parser.ParseLine(line));
    }

    [Fact]
    public void Blank_lines_and_help_are_not_commands()
    {
        Assert.IsType<ParsedInput.Empty>(_parser.ParseLine("   "));
        Assert.IsType<ParsedInput.Help>(_parser.ParseLine("HELP"));
    }

    [Fact]
    public void Ring_and_whereis_are_commands()
    {
        Assert.IsType<ParsedInput.Ring>(_parser.ParseLine("RING"));
        Assert.Equal(new ParsedInput.WhereIs("my key"), _parser.ParseLine("whereis 'my key'"));
    }

    [Fact]
    public void List_and_watch_are_commands()
    {
        Assert.Equal(new ParsedInput.List(""), _parser.ParseLine("LIST"));
        Assert.Equal(new ParsedInput.List("app/"), _parser.ParseLine("list app/"));
        Assert.Equal(new ParsedInput.Watch("k", Prefix: false), _parser.ParseLine("watch k"));
        Assert.Equal(new ParsedInput.Watch("", Prefix: true), _parser.ParseWords(["watch", "--prefix"]));
        Assert.Equal(new ParsedInput.Watch("app/", Prefix: true), _parser.ParseWords(["watch", "--prefix", "app/"]));
        Assert.Equal(new ParsedInput.Watch("--prefix", Prefix: false), _parser.ParseLine("watch \"--prefix\""));
    }

    [Fact]
    public void Load_and_bench_point_to_the_benchmark_harness()
    {
        Assert.Contains("KvAspire.Bench", Assert.IsType<ParsedInput.Invalid>(_parser.ParseWords(["LOAD", "1000000"])).Error);
        Assert.Contains("KvAspire.Bench", Assert.IsType<ParsedInput.Invalid>(_parser.ParseWords(["bench"])).Error);
    }

    [Fact]
    public void Shell_words_keep_a_word_with_spaces_exactly()
    {
        var send = Assert.IsType<ParsedInput.Send>(_parser.ParseWords(["update", "k", "room 101"]));

        Assert.Equal(new ConsoleCommand(OperationKind.Update, "k", "room 101"), send.Command);
    }

    [Fact]
    public void Shell_words_take_a_final_integer_as_the_version()
    {
        var send = Assert.IsType<ParsedInput.Send>(_parser.ParseWords(["update", "k", "new", "text", "3"]));

        Assert.Equal(new ConsoleCommand(OperationKind.Update, "k", "new text", 3), send.Command);
    }

    [Fact]
    public void Lease_commands_parse_to_their_action_and_a_create_names_its_lease_after_the_value()
    {
        var parser = new CommandParser(1024);

        Assert.Equal(new ParsedInput.Lease(LeaseAction.Grant, Ttl: TimeSpan.FromSeconds(2.5), PlaceWith: "{svc}"), parser.ParseLine("lease grant 2.5 {svc}"));
        Assert.Equal(new ParsedInput.Lease(LeaseAction.KeepAlive, 4294967297), parser.ParseLine("LEASE keep-alive 4294967297"));
        Assert.Equal(new ParsedInput.Lease(LeaseAction.Revoke, 1), parser.ParseLine("lease revoke 1"));
        Assert.Equal(new ParsedInput.Lease(LeaseAction.Show, 1), parser.ParseLine("lease show 1"));
        Assert.Equal(new ConsoleCommand(OperationKind.Create, "{svc}me", "up and running", Lease: 7), Sent("create {svc}me up and running --lease 7"));
        Assert.Equal(new ConsoleCommand(OperationKind.Create, "k", "v --lease 7"), Sent("create k v \"--lease\" 7"));
    }

    [Fact]
    public void A_txn_parses_its_conditions_then_and_else_operations_in_order()
    {
        var parsed = new CommandParser(1024).ParseLine(
            "TXN {a}x value = \"10 apples\" and {a}y missing AND {a}x mod < 9 then put {a}x 0 put {a}y \"then\" delete {a}z else read {a}x");

        var txn = Assert.IsType<ParsedInput.Txn>(parsed).Transaction.Build();
        Assert.Equal([("{a}x", CompareTarget.Value, CompareResult.Equal, 0L, "10 apples"), ("{a}y", CompareTarget.Version, CompareResult.Equal, 0L, ""),
                      ("{a}x", CompareTarget.ModRevision, CompareResult.Less, 9L, "")],
            txn.Compares.Select(c => (c.Key, c.Target, c.Result, c.Number, System.Text.Encoding.UTF8.GetString(c.Value.Span))));
        Assert.Equal([(TransactionOpKind.Put, "{a}x", "0"), (TransactionOpKind.Put, "{a}y", "then"), (TransactionOpKind.Delete, "{a}z", "")],
            txn.Success.Select(op => (op.Kind, op.Key, System.Text.Encoding.UTF8.GetString(op.Value.Span))));
        Assert.Equal([(TransactionOpKind.Read, "{a}x")], txn.Failure.Select(op => (op.Kind, op.Key)));
    }
}
