using System.Collections.Concurrent;
using System.Diagnostics;
using KvAspire.Client.Commands;
using KvAspire.Driver;

namespace KvAspire.Client.Shell;

/// <summary>
/// The interactive console. A reader thread shows the menu, reads lines, validates them
/// and sends valid commands without waiting for their answers; commands on one key still take effect in
/// the order typed (the client library keeps calls on one key in the order made). A receiver thread prints each answer as it arrives,
/// tagged with the command it answers. After the reader ends (sair/exit/quit or end of input) the
/// receiver keeps printing answers for the drain time, and until every command sent has its answer,
/// then the session ends.
/// </summary>
public sealed class InteractiveSession(
    KvClient client,
    TimeSpan requestTimeout,
    CommandParser parser,
    ReplyPrinter printer,
    RingReport? ring,
    TextReader input,
    TimeSpan drain,
    bool showPrompt)
{
    /// <summary>Beyond a request's deadline, for its answer to reach the receiver.</summary>
    private static readonly TimeSpan AnswerMargin = TimeSpan.FromSeconds(1);

    private readonly BlockingCollection<(ConsoleCommand Command, ConsoleAnswer Reply, string Tag)> _answers = new();
    private readonly CancellationTokenSource _readerEnded = new();
    private long _sent;
    private long _waiting;

    public int Run()
    {
        var reader = new Thread(ReadCommands) { Name = "reader" };
        var receiver = new Thread(ReceiveAnswers) { Name = "receiver" };
        receiver.Start();
        reader.Start();
        reader.Join();
        receiver.Join();
        return ExitCodes.Success;
    }

    private void ReadCommands()
    {
        printer.PrintLine($"KvAspire client: nodes {string.Join(", ", client.Nodes)}");
        printer.PrintLine(CommandParser.Usage);
        while (true)
        {
            if (showPrompt)
                printer.PrintPrompt("kv> ");
            var line = input.ReadLine();
            printer.PromptAnswered();
            if (line is null)
                break;
            var parsed = parser.ParseLine(line);
            if (parsed is ParsedInput.Exit)
                break;
            switch (parsed)
            {
                case ParsedInput.Send send:
                    var tag = $"{Interlocked.Increment(ref _sent)} {send.Command.Label}";
                    _ = SendAsync(send.Command, tag);
                    break;
                case ParsedInput.Invalid invalid:
                    printer.PrintError(invalid.Error);
                    break;
                case ParsedInput.Help:
                    printer.PrintLine(CommandParser.Usage);
                    break;
                case ParsedInput.Ring or ParsedInput.WhereIs when ring is null:
                    printer.PrintError(RingReport.NeedsTopology);
                    break;
                case ParsedInput.Ring:
                    ring.ShowAsync().GetAwaiter().GetResult();
                    break;
                case ParsedInput.WhereIs whereIs:
                    ring.WhereIsAsync(whereIs.Key).GetAwaiter().GetResult();
                    break;
                case ParsedInput.List list:
                    new KeyListing(client, printer).RunAsync(list.Prefix).GetAwaiter().GetResult();
                    break;
                case ParsedInput.Lease lease:
                    new LeaseCommands(client, printer).RunAsync(lease).GetAwaiter().GetResult();
                    break;
                case ParsedInput.Txn txn:
                    new TransactionCommand(client, printer).RunAsync(txn).GetAwaiter().GetResult();
                    break;
                case ParsedInput.ReplaceReplica or ParsedInput.Backup or ParsedInput.RingMove or ParsedInput.RingAdd or ParsedInput.RingRemove:
                    printer.PrintError($"{parsed switch { ParsedInput.Backup => "backup", ParsedInput.ReplaceReplica => "replace-replica", _ => "a change of the ring" }} runs from the command line, not the console");
                    break;
                case ParsedInput.Watch:
                    printer.PrintError("watch runs from the command line, not the console (Ctrl+C ends it there)");
                    break;
            }
        }
        printer.PrintLine($"leaving: {Volatile.Read(ref _waiting)} command(s) still waiting; answers are shown for at least {drain.TotalSeconds:0.#} s");
        _readerEnded.Cancel();
    }

    private async Task SendAsync(ConsoleCommand command, string tag)
    {
        Interlocked.Increment(ref _waiting);
        var reply = await client.ExecuteAsync(command);
        Interlocked.Decrement(ref _waiting);
        _answers.Add((command, reply, tag));
    }

    private void ReceiveAnswers()
    {
        try
        {
            while (true)
                Print(_answers.Take(_readerEnded.Token));
        }
        catch (OperationCanceledException)
        {
            // The reader has ended: keep printing until the drain time is up.
        }

        // At least the drain time after the reader ended, and while commands still wait, until each has
        // its answer: a command waiting behind others on its key is sent when the one before it is
        // answered, and each answers within its deadline, so one answer follows another within it.
        var readerEnded = Stopwatch.GetTimestamp();
        var lastAnswer = readerEnded;
        var patience = drain > requestTimeout + AnswerMargin ? drain : requestTimeout + AnswerMargin;
        while (true)
        {
            var waiting = Volatile.Read(ref _waiting) > 0 || _answers.Count > 0;
            var left = waiting
                ? patience - Stopwatch.GetElapsedTime(lastAnswer)
                : drain - Stopwatch.GetElapsedTime(readerEnded);
            if (left <= TimeSpan.Zero)
                break;
            if (_answers.TryTake(out var answer, left))
            {
                Print(answer);
                lastAnswer = Math.Max(lastAnswer, Stopwatch.GetTimestamp());
            }
        }
    }

    private void Print((ConsoleCommand Command, ConsoleAnswer Reply, string Tag) answer) =>
        printer.Print(answer.Command, answer.Reply, answer.Tag);
}
