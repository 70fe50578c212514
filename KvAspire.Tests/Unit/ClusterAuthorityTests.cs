using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KvAspire.Security;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>
/// What proves a member under TLS: a certificate that chains to the cluster's CA, is in date, and names
/// the member; what a client trusts of a node. The development certificates the AppHost writes.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ClusterAuthorityTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ClusterAuthority _authority;

    public ClusterAuthorityTests()
    {
        DevelopmentCertificates.Write(_directory.Path, [("p0r0", ["127.0.0.1"]), ("p0r1", ["node-b.example"])], TimeSpan.FromDays(1));
        _authority = ClusterAuthority.Load(_directory.File(DevelopmentCertificates.AuthorityFile));
    }

    public void Dispose()
    {
        _authority.Dispose();
        _directory.Dispose();
    }

    private X509Certificate2 Member(string node) =>
        ClusterAuthority.LoadCertificate(_directory.File(DevelopmentCertificates.CertificateFile(node)), _directory.File(DevelopmentCertificates.KeyFile(node)));

    [Fact]
    public void A_member_certificate_proves_its_node_and_carries_its_key()
    {
        using var member = Member("p0r1");

        Assert.Equal("p0r1", _authority.MemberOf(member, out var reason));
        Assert.Equal("", reason);
        Assert.True(member.HasPrivateKey);
        Assert.True(_authority.TrustsServer(member, SslPolicyErrors.None));
    }

    [Fact]
    public void An_authority_file_with_two_CAs_trusts_the_members_of_each_while_a_new_CA_is_rolled_in()
    {
        using var next = new TempDirectory();
        DevelopmentCertificates.Write(next.Path, [("p0r0", ["127.0.0.1"])], TimeSpan.FromDays(1));
        var both = next.File("both.crt");
        File.WriteAllText(both, File.ReadAllText(_directory.File(DevelopmentCertificates.AuthorityFile)) + File.ReadAllText(next.File(DevelopmentCertificates.AuthorityFile)));
        using var rolling = ClusterAuthority.Load(both);
        using var renewed = ClusterAuthority.LoadCertificate(next.File("p0r0.crt"), next.File("p0r0.key"));
        using var current = Member("p0r1");

        Assert.Equal(2, rolling.Certificates.Count);
        Assert.Equal("p0r0", rolling.MemberOf(renewed, out _));
        Assert.Equal("p0r1", rolling.MemberOf(current, out _));
        Assert.Null(_authority.MemberOf(renewed, out _));
    }

    [Fact]
    public void A_certificate_of_another_authority_proves_nothing()
    {
        using var other = new TempDirectory();
        DevelopmentCertificates.Write(other.Path, [("p0r0", ["127.0.0.1"])], TimeSpan.FromDays(1));
        using var stranger = ClusterAuthority.LoadCertificate(other.File("p0r0.crt"), other.File("p0r0.key"));

        Assert.Null(_authority.MemberOf(stranger, out var reason));
        Assert.Contains("is not trusted", reason);
        Assert.False(_authority.TrustsServer(stranger, SslPolicyErrors.None));
    }

    private sealed record Issued(ClusterAuthority Authority, X509Certificate2 Certificate) : IDisposable
    {
        public void Dispose()
        {
            Authority.Dispose();
            Certificate.Dispose();
        }
    }

    /// <summary>A CA of its own (valid for 60 days around now) and one certificate it issued for the given days.</summary>
    private static Issued Issue(string? member, string host, int fromDay, int toDay)
    {
        using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var authorityCertificate = DevelopmentCertificates.CreateAuthority(authorityKey, DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(30));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var issued = DevelopmentCertificates.Issue(authorityCertificate, authorityKey, key, member ?? "a client", member, [host],
            DateTimeOffset.UtcNow.AddDays(fromDay), DateTimeOffset.UtcNow.AddDays(toDay));
        return new Issued(new ClusterAuthority(X509CertificateLoader.LoadCertificate(authorityCertificate.RawData)), issued);
    }

    [Fact]
    public void An_expired_certificate_proves_nothing()
    {
        using var expired = Issue("p0r0", "127.0.0.1", -10, -1);

        Assert.Null(expired.Authority.MemberOf(expired.Certificate, out var reason));
        Assert.Contains("is not trusted", reason);
        Assert.Contains("expired", reason);
    }

    [Fact]
    public void A_client_certificate_of_the_same_authority_is_no_member()
    {
        using var client = Issue(member: null, "app.example", -1, 1);

        Assert.Null(client.Authority.MemberOf(client.Certificate, out var reason));
        Assert.Contains("names no member", reason);
        Assert.Null(client.Authority.MemberOf(null, out var none));
        Assert.Equal("no client certificate was presented", none);
    }

    [Fact]
    public void A_server_whose_name_does_not_match_is_not_trusted()
    {
        using var member = Member("p0r0");

        Assert.False(_authority.TrustsServer(member, SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.False(_authority.TrustsServer(null, SslPolicyErrors.RemoteCertificateNotAvailable));
    }

    [Fact]
    public void A_development_key_is_readable_by_its_owner_only()
    {
        if (OperatingSystem.IsWindows())
            return; // file modes are Unix's
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_directory.File(DevelopmentCertificates.KeyFile("p0r0"))));
    }
}
