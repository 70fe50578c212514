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

    /// <summary>The client started and left running (a watch): its output lines as they come, and Ctrl+C.</summary>
    public static RunningClient Start(IEnumerable<string> arguments) => new(Process.Start(DotnetCommand.StartInfo([Paths.ClientDll, .. arguments], null))!);

    /// <summary>The .NET SDK itself (<c>dotnet pack</c>, <c>dotnet run</c> …) in <paramref name="directory"/>, given up to <paramref name="timeout"/>.</summary>
    public static Task<ClientRun> RunSdkAsync(IEnumerable<string> arguments, string directory, TimeSpan timeout)
    {
        var start = DotnetCommand.StartInfo(arguments);
        start.WorkingDirectory = directory;
        return RunAsync(start, null, timeout);
    }

    private static Task<ClientRun> RunAsync(string dll, IEnumerable<string> arguments, IEnumerable<string>? inputLines, string? networkNamespace) =>
        RunAsync(DotnetCommand.StartInfo([dll, .. arguments], networkNamespace), inputLines, TimeSpan.FromSeconds(60));

    private static async Task<ClientRun> RunAsync(ProcessStartInfo start, IEnumerable<string>? inputLines, TimeSpan timeout)
    {
        start.RedirectStandardInput = true;

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        foreach (var line in inputLines ?? [])
            await process.StandardInput.WriteLineAsync(line);
        process.StandardInput.Close();

        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{string.Join(' ', start.ArgumentList)} did not exit within {timeout.TotalSeconds:0} s: {await output} {await errors}");
        }
        return new ClientRun(process.ExitCode, await output, await errors, stopwatch.Elapsed);
    }
}

/// <summary>
/// A client process left running: <see cref="Lines"/> and <see cref="ErrorLines"/> fill as it prints;
/// <see cref="InterruptAsync"/> is Ctrl+C.
/// </summary>
public sealed class RunningClient : IDisposable
{
    private readonly Process _process;
    private readonly Stopwatch _running = Stopwatch.StartNew();

    public RunningClient(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                Lines.Enqueue(e.Data);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                ErrorLines.Enqueue(e.Data);
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();

    public System.Collections.Concurrent.ConcurrentQueue<string> ErrorLines { get; } = new();

    /// <summary>Waits for it to end by itself (at most <paramref name="timeout"/>).</summary>
    public async Task<ClientRun> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return new ClientRun(_process.ExitCode, string.Join(Environment.NewLine, Lines), string.Join(Environment.NewLine, ErrorLines), _running.Elapsed);
    }

    /// <summary>Sends SIGINT, as Ctrl+C does, and returns the exit code and what it wrote to standard error.</summary>
    public async Task<(int ExitCode, string Errors)> InterruptAsync()
    {
        using (var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(cancel.Token);
        return (_process.ExitCode, string.Join(Environment.NewLine, ErrorLines));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
