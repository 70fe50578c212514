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

    public static readonly Option<string?> CaOption = new("--ca")
    {
        Description = "The cluster's CA certificate (PEM) when it serves TLS: nodes are called over https and trusted only with a certificate it issued " +
                      "(default: the topology's Cluster.Tls.Authority)",
    };

    public static readonly Option<string?> CertOption = new("--cert")
    {
        Description = "A certificate to present (PEM), with --key: on a cluster with TLS, backup and replace-replica need a member's (certs/<node>.crt)",
    };

    public static readonly Option<string?> KeyOption = new("--key") { Description = "The private key (PEM) of --cert" };

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

    public static readonly Argument<string[]> WordsArgument = new("command")
    {
        Description = "A command to run once (create, read, update, delete); without one, the interactive console starts",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static RootCommand CreateRoot() => new(
        $"KvAspire client: create, read, update and delete keys on a KvAspire cluster.{Environment.NewLine}{CommandParser.Usage}")
    {
        NodeOption, ClusterOption, CaOption, CertOption, KeyOption, JsonOption, DrainOption, TimeoutOption, MaxValueOption, WordsArgument,
    };
}
