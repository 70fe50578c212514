using System.Diagnostics;

namespace KvAspire.Tests.Support;

/// <summary>What a run of the client printed and returned.</summary>
public sealed record ClientRun(int ExitCode, string Output, string Errors, TimeSpan Elapsed);

/// <summary>
/// Runs the built client (or the benchmark harness) as a user would, optionally feeding its standard input,
/// optionally inside a network namespace.
/// </summary>
public static class ClientProcess
{
    public static Task<ClientRun> RunAsync(IEnumerable<string> arguments, IEnumerable<string>? inputLines = null, string? networkNamespace = null) =>
        RunAsync(Paths.ClientDll, arguments, inputLines, networkNamespace);

    public static Task<ClientRun> RunBenchAsync(IEnumerable<string> arguments) => RunAsync(Paths.BenchDll, arguments, null, null);

    private static async Task<ClientRun> RunAsync(string dll, IEnumerable<string> arguments, IEnumerable<string>? inputLines, string? networkNamespace)
    {
        var start = DotnetCommand.StartInfo([dll, .. arguments], networkNamespace);
        start.RedirectStandardInput = true;

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        foreach (var line in inputLines ?? [])
            await process.StandardInput.WriteLineAsync(line);
        process.StandardInput.Close();

        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the client did not exit within 60 s: {await output} {await errors}");
        }
        return new ClientRun(process.ExitCode, await output, await errors, stopwatch.Elapsed);
    }
}
