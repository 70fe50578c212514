using System.Text.Json;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.EndToEnd;

/// <summary>The client console, one-shot and interactive, and the benchmark harness, against a real node process.</summary>
[Trait("Category", "EndToEnd")]
public sealed class ClientAgainstNodeTests : IAsyncLifetime
{
    private SingleNode _cluster = null!;

    private TestTopology Topology => _cluster.Topology;

    public async Task InitializeAsync() => _cluster = await SingleNode.StartAsync(maxValueBytes: 64);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private Task<ClientRun> Client(params string[] words) =>
        ClientProcess.RunAsync(["--node", Topology.GrpcEndPoint, .. words]);

    private async Task<JsonElement> ClientJson(params string[] words)
    {
        var run = await Client(["--json", .. words]);
        return JsonDocument.Parse(run.Output).RootElement;
    }

    [Fact]
    public async Task One_shot_commands_give_the_documented_answers_and_exit_codes()
    {
        Assert.Equal(0, (await Client("create", "a", "1")).ExitCode);

        var exists = await Client("create", "a", "2");
        Assert.Equal(1, exists.ExitCode);
        Assert.Contains("already exists", exists.Errors);

        var read = await Client("read", "a");
        Assert.Equal(0, read.ExitCode);
        Assert.StartsWith("1 (version 1,", read.Output);

        var updated = await Client("update", "a", "x", "1");
        Assert.Equal(0, updated.ExitCode);
        Assert.Contains("version 2", updated.Output);

        var stale = await Client("UPDATE", "a", "y", "1");
        Assert.Equal(1, stale.ExitCode);
        Assert.Contains("is at version 2, not 1", stale.Errors);

        Assert.Equal(0, (await Client("delete", "a")).ExitCode);
        var gone = await Client("read", "a");
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("not found", gone.Errors);

        var unknown = await Client("frobnicate");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown command 'frobnicate'", unknown.Errors);
    }

    [Fact]
    public async Task List_prints_the_keys_under_a_prefix_and_watch_prints_each_change_until_ctrl_c()
    {
        using var watch = ClientProcess.Start(["--node", Topology.GrpcEndPoint, "watch", "--prefix", "fruit/"]);
        await Wait.UntilAsync(() => watch.Lines.Any(line => line.StartsWith("position 0: from revision", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the watch to start");
        Assert.Equal(0, (await Client("create", "fruit/apple", "red")).ExitCode);
        Assert.Equal(0, (await Client("create", "fruit/pear", "green")).ExitCode);
        Assert.Equal(0, (await Client("create", "veg/leek", "white")).ExitCode);
        Assert.Equal(0, (await Client("delete", "fruit/pear")).ExitCode);

        var list = await Client("list", "fruit/");
        var listJson = await Client("--json", "list");
        await Wait.UntilAsync(() => watch.Lines.Any(line => line.StartsWith("delete fruit/pear", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the delete's event");
        var (exitCode, errors) = await watch.InterruptAsync();

        Assert.Equal(0, list.ExitCode);
        Assert.Matches(@"^fruit/apple = red \(version 1, revision \d+, position 0\)\n1 key; positions read at revisions 0:\d+\n$", list.Output.ReplaceLineEndings("\n"));
        Assert.Equal(["fruit/apple", "veg/leek"], listJson.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("key").GetString()));
        Assert.Equal((0, ""), (exitCode, errors));
        Assert.Equal(["put fruit/apple = red", "put fruit/pear = green", "delete fruit/pear"],
            watch.Lines.Where(line => line.StartsWith("put", StringComparison.Ordinal) || line.StartsWith("delete", StringComparison.Ordinal))
                .Select(line => line[..line.IndexOf(" (", StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task Lease_commands_grant_a_lease_that_holds_a_key_show_it_and_revoke_it_with_the_key()
    {
        var granted = await ClientJson("lease", "grant", "30", "{c}");
        var id = granted.GetProperty("lease").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var created = await Client("create", "{c}held", "v", "--lease", id);
        var shown = await Client("lease", "show", id);
        var revoked = await Client("lease", "revoke", id);
        var read = await Client("read", "{c}held");
        var again = await Client("lease", "revoke", id);

        Assert.Equal(30, granted.GetProperty("ttlSeconds").GetDouble());
        Assert.Equal(0, created.ExitCode);
        Assert.Matches($@"^lease {id}: TTL 30 s, [\d.]+ s left, 1 key: {{c}}held\n$", shown.Output.ReplaceLineEndings("\n"));
        Assert.Equal(0, revoked.ExitCode);
        Assert.StartsWith($"lease {id} revoked; its keys deleted at revision ", revoked.Output);
        Assert.Equal(1, read.ExitCode);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("NotFound", again.Errors);
    }

    [Fact]
    public async Task A_txn_runs_its_then_branch_when_its_conditions_hold_and_its_else_branch_when_not()
    {
        var taken = await Client("txn", "{t}a", "missing", "then", "put", "{t}a", "1", "put", "{t}b", "two words", "read", "{t}b");
        var refused = await ClientJson("txn", "{t}a", "value", "=", "0", "then", "delete", "{t}a", "else", "read", "{t}a", "delete", "{t}b");
        var bad = await Client("txn", "{t}a", "exists", "then", "fetch", "{t}a");

        Assert.Equal(0, taken.ExitCode);
        Assert.Matches(@"^then ran, at revision \d+ \(3 operations\)\n  \{t\}a: version 1, modRevision \d+, created\n" +
                       @"  \{t\}b: version 1, modRevision \d+, created\n  \{t\}b: version 1, modRevision \d+, value ""two words""\n$",
            taken.Output.ReplaceLineEndings("\n"));
        Assert.False(refused.GetProperty("succeeded").GetBoolean());
        Assert.Equal("else", refused.GetProperty("branch").GetString());
        Assert.Equal(["1", ""], refused.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("value").GetString()));
        Assert.Equal(1, (await Client("read", "{t}b")).ExitCode);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("'fetch' is not an operation", bad.Errors);
    }

    [Fact]
    public async Task Json_output_carries_value_version_and_hops()
    {
        var created = await ClientJson("create", "greeting", "hello", "big", "world");
        var read = await ClientJson("read", "greeting");
        var failed = await ClientJson("create", "greeting", "again");

        Assert.True(created.GetProperty("ok").GetBoolean());
        Assert.Equal(1, created.GetProperty("version").GetInt64());
        Assert.Equal("hello big world", read.GetProperty("value").GetString());
        Assert.Equal(1, read.GetProperty("version").GetInt64());
        Assert.Equal(0, read.GetProperty("hops").GetInt32());
        Assert.Equal(created.GetProperty("timestampUnixMs").GetInt64(), read.GetProperty("timestampUnixMs").GetInt64());
        Assert.False(failed.GetProperty("ok").GetBoolean());
        Assert.Equal("AlreadyExists", failed.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Invalid_input_exits_2_with_a_message_and_changes_nothing()
    {
        Assert.Equal(0, (await Client("create", "k", "original")).ExitCode);
        var logLength = new FileInfo(Path.Combine(Topology.DataDirectory, "log.0")).Length;

        var cases = new (string[] Words, string Message)[]
        {
            (["create", "", "v"], "the key is empty"),
            (["update", new string('k', 1025), "v"], "the key is 1025 bytes; the limit is 1024"),
            (["update", "k", new string('v', 65)], "the value is 65 bytes; the limit is 64"),
            (["update", "k", "v", "0"], "'0' is not a version"),
            (["delete", "k", "abc"], "'abc' is not a version"),
            (["read"], "read needs exactly one key"),
            (["--timeout-seconds", "x", "read", "k"], "x"),
        };
        foreach (var (words, message) in cases)
        {
            var run = await Client(words);
            Assert.True(run.ExitCode == 2, $"{string.Join(' ', words)} exited {run.ExitCode}: {run.Output} {run.Errors}");
            Assert.Contains(message, run.Errors);
        }

        var read = await ClientJson("read", "k");
        Assert.Equal("original", read.GetProperty("value").GetString());
        Assert.Equal(1, read.GetProperty("version").GetInt64());
        Assert.Equal(logLength, new FileInfo(Path.Combine(Topology.DataDirectory, "log.0")).Length);
    }

    [Fact]
    public async Task The_harness_benchmark_preloads_runs_a_workload_and_reports_percentiles_and_refuses_a_bad_load()
    {
        var badLoad = await ClientProcess.RunBenchAsync(["--node", Topology.GrpcEndPoint, "load", "0"]);
        Assert.Equal(2, badLoad.ExitCode);
        Assert.Contains("load needs a number of keys from 1 up", badLoad.Errors);

        var run = await ClientProcess.RunBenchAsync(["--node", Topology.GrpcEndPoint, "--json", "--clients", "4", "--value-size", "32",
            "--keys", "200", "--workload", "B", "--duration", "1", "--warmup", "0", "bench"]);
        var report = JsonDocument.Parse(run.Output).RootElement;

        Assert.Equal(0, run.ExitCode);
        Assert.True(report.GetProperty("ok").GetBoolean());
        Assert.True(report.GetProperty("succeeded").GetInt64() > 100, run.Output);
        Assert.True(report.GetProperty("p99Ms").GetDouble() >= report.GetProperty("p50Ms").GetDouble());
        Assert.Contains("preloading 200 keys", run.Errors);
        var preloaded = await ClientJson("read", "bench-199");
        Assert.Equal(32, preloaded.GetProperty("value").GetString()!.Length);
    }

    [Fact]
    public async Task An_unreachable_node_exits_3()
    {
        await _cluster.Process.KillAsync();

        var run = await ClientProcess.RunAsync(["--node", Topology.GrpcEndPoint, "--timeout-seconds", "5", "read", "a"]);

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("Unavailable", run.Errors);
    }

    [Fact]
    public async Task The_console_prints_every_answer_tagged_and_drains_after_sair()
    {
        // Commands in one session are sent without waiting for each other, so they may be applied in
        // any order: the read is of a key written before the session.
        Assert.Equal(0, (await Client("create", "before", "written earlier")).ExitCode);
        const int writes = 200;
        var lines = Enumerable.Range(0, writes).Select(i => $"create key{i} value {i}")
            .Append("read before")
            .Append("bogus")
            .Append("sair")
            .Append("create after-sair never-sent");

        var run = await ClientProcess.RunAsync(["--node", Topology.GrpcEndPoint, "--drain-seconds", "2"], lines);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("create <key> <value>", run.Output);
        for (var i = 0; i < writes; i++)
            Assert.Contains($"[{i + 1} create key{i}] ok key{i} (version 1,", run.Output);
        Assert.Contains($"[{writes + 1} read before] written earlier (version 1,", run.Output);
        Assert.Contains("unknown command 'bogus'", run.Errors);
        Assert.Matches(@"leaving: \d+ command\(s\) still waiting; answers are shown for at least 2 s", run.Output);
        Assert.DoesNotContain("after-sair", run.Output);
        Assert.True(run.Elapsed >= TimeSpan.FromSeconds(2), $"the client ended after {run.Elapsed}, before its 2 s drain");

        var late = await ClientJson("read", "after-sair");
        Assert.Equal("NotFound", late.GetProperty("code").GetString());
    }
}
