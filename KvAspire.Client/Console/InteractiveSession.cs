using System.Collections.Concurrent;
using System.Diagnostics;
using KvAspire.Client.Commands;
using KvAspire.Client.Connection;

namespace KvAspire.Client.Console;

/// <summary>
/// The interactive console (R-CLI-1..3). A reader thread shows the menu, reads lines, validates them
/// and sends valid commands without waiting for their answers; a receiver thread prints each answer as
/// it arrives, tagged with the command it answers. After the reader ends (sair/exit/quit or end of
/// input) the receiver keeps printing answers for the drain time, then the session ends.
/// </summary>
public sealed class InteractiveSession(
    KvConnection connection,
    CommandParser parser,
    ReplyPrinter printer,
    RingReport? ring,
    TextReader input,
    TimeSpan drain,
    bool showPrompt)
{
    private readonly BlockingCollection<(ClientCommand Command, Reply Reply, string Tag)> _answers = new();
    private readonly CancellationTokenSource _readerEnded = new();
    private long _sent;

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
        printer.PrintLine($"KvAspire client: nodes {string.Join(", ", connection.Addresses)}");
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
                    ring.WhereIs(whereIs.Key);
                    break;
                case ParsedInput.Load or ParsedInput.Bench:
                    printer.PrintError("load and bench run from the command line, not the console");
                    break;
            }
        }
        printer.PrintLine($"leaving: answers still arriving are shown for {drain.TotalSeconds:0.#} s");
        _readerEnded.Cancel();
    }

    private async Task SendAsync(ClientCommand command, string tag) =>
        _answers.Add((command, await connection.ExecuteAsync(command), tag));

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

        var drainStarted = Stopwatch.GetTimestamp();
        while (drain - Stopwatch.GetElapsedTime(drainStarted) is var left && left > TimeSpan.Zero)
        {
            if (_answers.TryTake(out var answer, left))
                Print(answer);
        }
    }

    private void Print((ClientCommand Command, Reply Reply, string Tag) answer) =>
        printer.Print(answer.Command, answer.Reply, answer.Tag);
}
