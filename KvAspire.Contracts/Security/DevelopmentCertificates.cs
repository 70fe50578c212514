using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KvAspire.Security;

/// <summary>
/// A CA and a certificate for each node, for development and tests (the AppHost's TLS switch): ECDSA
/// P-256, written as PEM into one directory: <c>ca.crt</c>, and <c>&lt;node&gt;.crt</c> with
/// <c>&lt;node&gt;.key</c>. A node's certificate is for its host (a DNS name or an IP address, and
/// <c>localhost</c>), names it as a member (<see cref="ClusterAuthority.MemberUriScheme"/>), and serves both
/// ends of TLS (server and client authentication). The CA's key is not kept: no more certificates can be
/// issued from it, so a leaked directory issues nothing new.
/// </summary>
public static class DevelopmentCertificates
{
    public const string AuthorityFile = "ca.crt";

    public static string CertificateFile(string node) => $"{node}.crt";

    public static string KeyFile(string node) => $"{node}.key";

    /// <summary>
    /// A certificate the CA issues besides the nodes': a client's (no <paramref name="Member"/>: what a client
    /// presents, and what a node must not take for a member's), or a member's that expired yesterday.
    /// </summary>
    public sealed record Extra(string Name, string? Member = null, bool Expired = false);

    /// <summary>
    /// Writes the CA and one certificate per node (its name, and the hosts it is reached at), and those of
    /// <paramref name="extras"/>, each valid from now for <paramref name="lifetime"/> (but an expired one).
    /// </summary>
    public static void Write(string directory, IEnumerable<(string Node, IEnumerable<string> Hosts)> nodes, TimeSpan lifetime,
        IEnumerable<Extra>? extras = null)
    {
        Directory.CreateDirectory(directory);
        var now = DateTimeOffset.UtcNow;
        var notBefore = now.AddMinutes(-5);
        using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var authority = CreateAuthority(authorityKey, now.AddDays(-2), notBefore + lifetime);
        File.WriteAllText(Path.Combine(directory, AuthorityFile), authority.ExportCertificatePem() + "\n");

        var holders = nodes.Select(n => (Name: n.Node, Member: (string?)n.Node, n.Hosts, Expired: false))
            .Concat((extras ?? []).Select(extra => (extra.Name, extra.Member, Hosts: Enumerable.Empty<string>(), extra.Expired)));
        foreach (var (name, member, hosts, expired) in holders)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var certificate = expired
                ? Issue(authority, authorityKey, key, name, member, hosts, now.AddDays(-2), now.AddDays(-1))
                : Issue(authority, authorityKey, key, name, member, hosts, notBefore, notBefore + lifetime);
            File.WriteAllText(Path.Combine(directory, CertificateFile(name)), certificate.ExportCertificatePem() + "\n");
            File.WriteAllText(Path.Combine(directory, KeyFile(name)), key.ExportPkcs8PrivateKeyPem() + "\n");
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(Path.Combine(directory, KeyFile(name)), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>A self-signed CA certificate for <paramref name="key"/>, which may sign certificates and nothing under them.</summary>
    public static X509Certificate2 CreateAuthority(ECDsa key, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest("CN=KvAspire development CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(notBefore, notAfter);
    }

    /// <summary>
    /// A certificate signed by <paramref name="authority"/> with the common name <paramref name="subject"/>,
    /// for <paramref name="hosts"/>, naming <paramref name="member"/> (null: a certificate for a client, naming none).
    /// </summary>
    public static X509Certificate2 Issue(X509Certificate2 authority, ECDsa authorityKey, ECDsa key, string subject, string? member,
        IEnumerable<string> hosts, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var names = new SubjectAlternativeNameBuilder();
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var address))
                names.AddIpAddress(address);
            else
                names.AddDnsName(host);
        }
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        if (member is not null)
            names.AddUri(new Uri($"{ClusterAuthority.MemberUriScheme}:{member}"));
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return request.Create(authority.SubjectName, X509SignatureGenerator.CreateForECDsa(authorityKey), notBefore, notAfter, serial);
    }
}
