using System.CommandLine;
using KvAspire.Client.Commands;

namespace KvAspire.Client;

/// <summary>The client's command line: options, the command words, and the root command holding them.</summary>
public static class ClientOptions
{
    public static readonly Option<string[]> NodeOption = new("--node")
    {
        Description = "A node's gRPC address, host:port (repeat for several; tried in order when one is unavailable)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static readonly Option<string?> ClusterOption = new("--cluster")
    {
        Description = "Topology file whose nodes to use when no --node is given, and for ring, whereis and replace-replica (default: cluster.json here, if present)",
    };

    public static readonly Option<bool> JsonOption = new("--json") { Description = "Print one JSON object per answer" };

    public static readonly Option<double> DrainOption = new("--drain-seconds")
    {
        Description = "Interactive mode: how long answers are still shown after sair/exit/quit",
        DefaultValueFactory = _ => 5,
    };

    public static readonly Option<double> TimeoutOption = new("--timeout-seconds")
    {
        Description = "Deadline of each request",
        DefaultValueFactory = _ => 10,
    };

    public static readonly Option<int?> MaxValueOption = new("--max-value-bytes")
    {
        Description = "Largest value accepted before sending (default: the topology's MaxValueBytes, else 1 MiB)",
    };

    public static readonly Option<int> ClientsOption = new("--clients")
    {
        Description = "load: concurrent callers",
        DefaultValueFactory = _ => 64,
    };

    public static readonly Option<int> ValueSizeOption = new("--value-size")
    {
        Description = "load: bytes per value",
        DefaultValueFactory = _ => 256,
    };

    public static readonly Option<string?> KeyPrefixOption = new("--key-prefix")
    {
        Description = "load, bench: prefix of the keys (default: load-<random>- for load, bench- for bench)",
    };

    public static readonly Option<string> WorkloadOption = new("--workload")
    {
        Description = "bench: A (50% reads, 50% updates), B (95/5), C (reads), read, write",
        DefaultValueFactory = _ => "A",
    };

    public static readonly Option<string?> DistributionOption = new("--distribution")
    {
        Description = "bench: zipfian or uniform key choice (default: zipfian for A, B, C; uniform for read, write)",
    };

    public static readonly Option<long> KeysOption = new("--keys")
    {
        Description = "bench: keys to preload and work on",
        DefaultValueFactory = _ => 10_000,
    };

    public static readonly Option<double> DurationOption = new("--duration")
    {
        Description = "bench: seconds to measure",
        DefaultValueFactory = _ => 10,
    };

    public static readonly Option<long?> OpsOption = new("--ops")
    {
        Description = "bench: operations to measure, instead of a duration",
    };

    public static readonly Option<double> WarmupOption = new("--warmup")
    {
        Description = "bench: seconds of unmeasured work before measuring",
        DefaultValueFactory = _ => 2,
    };

    public static readonly Option<bool> SkipPreloadOption = new("--skip-preload")
    {
        Description = "bench: work on the keys a previous run preloaded, without creating them first (a cold-start run measures from its first request)",
    };

    public static readonly Option<bool> WaitToMeasureOption = new("--wait-to-measure")
    {
        Description = "bench: after the warm-up, wait for a line on standard input before measuring (restart the nodes meanwhile to measure their cold start with a warmed client)",
    };

    public static readonly Argument<string[]> WordsArgument = new("command")
    {
        Description = "A command to run once (create, read, update, delete); without one, the interactive console starts",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static readonly Option<string> TargetOption = new("--target")
    {
        Description = "bench: the store to drive, kvaspire (--node/--cluster) or etcd (--endpoints)",
        DefaultValueFactory = _ => "kvaspire",
    };

    public static readonly Option<bool> SpreadOption = new("--spread")
    {
        Description = "bench --target kvaspire: each caller keeps to its node, as a client that knows no leader would (by default, calls go straight to each key's leader once the client has learned the ring)",
    };

    public static readonly Option<string[]> EndpointsOption = new("--endpoints")
    {
        Description = "bench --target etcd: etcd members' client URLs (repeat for several)",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static RootCommand CreateRoot() => new(
        $"KvAspire client: create, read, update and delete keys on a KvAspire cluster.{Environment.NewLine}{CommandParser.Usage}")
    {
        NodeOption, ClusterOption, JsonOption, DrainOption, TimeoutOption, MaxValueOption,
        ClientsOption, ValueSizeOption, KeyPrefixOption, WorkloadOption, DistributionOption, KeysOption,
        DurationOption, OpsOption, WarmupOption, SkipPreloadOption, WaitToMeasureOption, TargetOption, SpreadOption, EndpointsOption, WordsArgument,
    };
}
