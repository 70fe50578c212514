using System.Net;
using System.Security.Authentication;
using KvAspire.Cluster;
using KvAspire.Node.Peers;
using KvAspire.Security;
using KvAspire.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace KvAspire.Tests.Unit;

/// <summary>
/// A node's own TLS (<see cref="MemberTls"/>): it starts only on its own member certificate from the
/// cluster's CA, saying why not, and takes a renewed certificate from its files without a restart; calling
/// another node, it accepts only a server whose certificate names the member it meant.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MemberTlsTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private ClusterTopology Topology()
    {
        var path = _directory.File("cluster.json");
        File.WriteAllText(path, """
            { "Cluster": { "Replicas": 2, "Tls": { "Authority": "certs/ca.crt", "Certificates": "certs" },
              "Nodes": [ { "Name": "p0r0", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7000, "RaftPort": 7100 },
                         { "Name": "p0r1", "Position": 0, "Host": "127.0.0.1", "GrpcPort": 7001, "RaftPort": 7101 } ] } }
            """);
        return TopologyLoader.Load(path);
    }

    private string Certificates => _directory.File("certs");

    [Fact]
    public void A_renewed_certificate_is_taken_from_its_files_without_a_restart()
    {
        DevelopmentCertificates.Write(Certificates, [("p0r0", ["127.0.0.1"]), ("p0r1", ["127.0.0.1"])], TimeSpan.FromDays(1));
        var topology = Topology();
        var tls = MemberTls.For(topology, topology.GetNode("p0r0"));
        var first = tls.Certificate.Thumbprint;
        Assert.Equal(first, tls.Certificate.Thumbprint);

        DevelopmentCertificates.Write(Certificates, [("p0r0", ["127.0.0.1"]), ("p0r1", ["127.0.0.1"])], TimeSpan.FromDays(2));
        // A renewal comes days after the first write; two writes a few milliseconds apart may share the file system's clock tick.
        File.SetLastWriteTimeUtc(Path.Combine(Certificates, "p0r0.crt"), DateTime.UtcNow.AddSeconds(1));

        var renewed = tls.Certificate;
        Assert.NotEqual(first, renewed.Thumbprint);
        Assert.Equal("p0r0", ClusterAuthority.MemberName(renewed));
        Assert.True(renewed.HasPrivateKey);
    }

    [Fact]
    public void A_node_does_not_start_on_another_members_certificate()
    {
        DevelopmentCertificates.Write(Certificates, [("p0r0", ["127.0.0.1"]), ("p0r1", ["127.0.0.1"])], TimeSpan.FromDays(1));
        File.Copy(Path.Combine(Certificates, "p0r1.crt"), Path.Combine(Certificates, "p0r0.crt"), overwrite: true);
        File.Copy(Path.Combine(Certificates, "p0r1.key"), Path.Combine(Certificates, "p0r0.key"), overwrite: true);
        var topology = Topology();

        var refused = Assert.Throws<TopologyException>(() => MemberTls.For(topology, topology.GetNode("p0r0")));

        Assert.Contains("is not p0r0's member certificate from the cluster's CA: it names p0r1", refused.Message);
    }

    [Fact]
    public void A_node_does_not_start_on_an_expired_certificate()
    {
        DevelopmentCertificates.Write(Certificates, [("p0r1", ["127.0.0.1"])], TimeSpan.FromDays(1),
            [new DevelopmentCertificates.Extra("p0r0", Member: "p0r0", Expired: true)]);
        var topology = Topology();

        var refused = Assert.Throws<TopologyException>(() => MemberTls.For(topology, topology.GetNode("p0r0")));

        Assert.Contains("is not trusted", refused.Message);
    }

    [Fact]
    public void A_missing_certificate_is_named_at_start()
    {
        DevelopmentCertificates.Write(Certificates, [("p0r1", ["127.0.0.1"])], TimeSpan.FromDays(1));
        var topology = Topology();

        var refused = Assert.Throws<TopologyException>(() => MemberTls.For(topology, topology.GetNode("p0r0")));

        Assert.Contains("p0r0.crt", refused.Message);
    }

    [Fact]
    public async Task A_node_calling_another_accepts_only_the_server_it_meant()
    {
        DevelopmentCertificates.Write(Certificates, [("p0r0", ["127.0.0.1"]), ("p0r1", ["127.0.0.1"])], TimeSpan.FromDays(1));
        var topology = Topology();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, MemberTls.For(topology, topology.GetNode("p0r1")).Serve));
        await using var server = builder.Build();
        server.MapGet("/", () => "p0r1");
        await server.StartAsync();
        var address = server.Urls.Single();
        var caller = MemberTls.For(topology, topology.GetNode("p0r0"));

        // What PeerClients and the status questions do: the server must name the member meant.
        using (var meant = new HttpClient(caller.Secure(new SocketsHttpHandler(), member => member == "p0r1")))
            Assert.Equal("p0r1", await meant.GetStringAsync(address));
        using var other = new HttpClient(caller.Secure(new SocketsHttpHandler(), member => member == "p0r0"));
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => other.GetStringAsync(address));
        Assert.IsType<AuthenticationException>(refused.InnerException);
        using var status = caller.StatusClient(TimeSpan.FromSeconds(5), member => member is null);
        await Assert.ThrowsAsync<HttpRequestException>(() => status.GetStringAsync(address));
    }
}
