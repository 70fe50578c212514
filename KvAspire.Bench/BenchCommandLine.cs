using System.CommandLine;

namespace KvAspire.Bench;

/// <summary>The harness's command line: where the cluster is, the load or workload, and the words <c>bench</c> or <c>load &lt;count&gt;</c>.</summary>
public static class BenchCommandLine
{
    public const string Usage = """
        bench            preload --keys keys, warm up, then run --workload for --duration seconds (or --ops operations)
        load <count>     create <count> new keys as fast as the cluster takes them
        """;

    public static readonly Option<string[]> NodeOption = new("--node")
    {
        Description = "A KvAspire node's gRPC address, host:port (repeat for several)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static readonly Option<string?> ClusterOption = new("--cluster")
    {
        Description = "Topology file whose nodes to use when no --node is given (default: cluster.json here, if present)",
    };

    public static readonly Option<bool> JsonOption = new("--json") { Description = "Print the report as one JSON object" };

    public static readonly Option<double> TimeoutOption = WithDefault<double>("--timeout-seconds", "Deadline of each request", 10);

    public static readonly Option<int> ClientsOption = WithDefault("--clients", "Concurrent callers", 64);

    public static readonly Option<int> ValueSizeOption = WithDefault("--value-size", "Bytes per value", 256);

    public static readonly Option<string?> KeyPrefixOption = new("--key-prefix")
    {
        Description = "Prefix of the keys (default: load-<random>- for load, bench- for bench)",
    };

    public static readonly Option<string> WorkloadOption = WithDefault("--workload", "A (50% reads, 50% updates), B (95/5), C (reads), read, write", "A");

    public static readonly Option<string?> DistributionOption = new("--distribution")
    {
        Description = "Zipfian or uniform key choice (default: zipfian for A, B, C; uniform for read, write)",
    };

    public static readonly Option<long> KeysOption = WithDefault<long>("--keys", "Keys to preload and work on", 10_000);

    public static readonly Option<double> DurationOption = WithDefault<double>("--duration", "Seconds to measure", 10);

    public static readonly Option<long?> OpsOption = new("--ops") { Description = "Operations to measure, instead of a duration" };

    public static readonly Option<double> WarmupOption = WithDefault<double>("--warmup", "Seconds of unmeasured work before measuring", 2);

    public static readonly Option<bool> SkipPreloadOption = new("--skip-preload")
    {
        Description = "Work on the keys a previous run preloaded, without creating them first (a cold-start run measures from its first request)",
    };

    public static readonly Option<bool> WaitToMeasureOption = new("--wait-to-measure")
    {
        Description = "After the warm-up, wait for a line on standard input before measuring (restart the nodes meanwhile to measure their cold start with a warmed client)",
    };

    public static readonly Option<string> TargetOption = WithDefault("--target", "The store to drive, kvaspire (--node/--cluster) or etcd (--endpoints)", "kvaspire");

    public static readonly Option<bool> SpreadOption = new("--spread")
    {
        Description = "--target kvaspire: each caller keeps to its node, as a client that knows no leader would (by default, calls go straight to each key's leader once the client has learned the ring)",
    };

    public static readonly Option<int> WatchersOption = new("--watchers")
    {
        Description = "--target kvaspire, bench: watches of the keys' prefix open while the run is measured, each reporting the lag from a write's call to its event (values need 20 B or more)",
    };

    public static readonly Option<string[]> EndpointsOption = new("--endpoints")
    {
        Description = "--target etcd: etcd members' client URLs (repeat for several)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static readonly Argument<string[]> WordsArgument = new("command")
    {
        Description = "bench, or load <count>",
        Arity = ArgumentArity.OneOrMore,
    };

    public static RootCommand CreateRoot() => new($"KvAspire load and benchmark harness.{Environment.NewLine}{Usage}")
    {
        NodeOption, ClusterOption, JsonOption, TimeoutOption, ClientsOption, ValueSizeOption, KeyPrefixOption, WorkloadOption,
        DistributionOption, KeysOption, DurationOption, OpsOption, WarmupOption, SkipPreloadOption, WaitToMeasureOption, TargetOption,
        SpreadOption, WatchersOption, EndpointsOption, WordsArgument,
    };

    private static Option<T> WithDefault<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };
}
