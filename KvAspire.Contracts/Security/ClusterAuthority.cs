using System.Formats.Asn1;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace KvAspire.Security;

/// <summary>
/// The certificate authority of a cluster with TLS: every member's certificate chains to it, and only to
/// it (the machine's trusted roots play no part). A member's certificate names its node in a URI of its
/// subject alternative names, <c>kvaspire-member:&lt;node&gt;</c>: that, not the host it runs on, is what a
/// peer checks, so a certificate the CA issued for a client, or for a server that is not a member, opens
/// no member's door. Clients check a node's certificate against the same CA, and its host as usual.
/// </summary>
public sealed class ClusterAuthority : IDisposable
{
    public const string MemberUriScheme = "kvaspire-member";

    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <param name="certificates">The CA's certificate; two while a new CA is rolled in (each one trusted).</param>
    public ClusterAuthority(X509Certificate2Collection certificates) => Certificates = certificates;

    public ClusterAuthority(X509Certificate2 certificate) : this(new X509Certificate2Collection(certificate))
    {
    }

    public X509Certificate2Collection Certificates { get; }

    /// <summary>The CA certificates in a PEM file: every one is trusted (while a new CA is rolled in, the file holds both).</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The file holds no certificate.</exception>
    public static ClusterAuthority Load(string pemPath)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(pemPath);
        return certificates.Count > 0
            ? new ClusterAuthority(certificates)
            : throw new System.Security.Cryptography.CryptographicException($"{pemPath} holds no certificate");
    }

    /// <summary>A certificate with its private key (a member's, or a client's), from PEM files.</summary>
    public static X509Certificate2 LoadCertificate(string certificatePem, string keyPem)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificatePem, keyPem);
        // Exported and loaded again: on Linux a key from PEM works for TLS as it is; elsewhere SslStream needs this.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>The member <paramref name="presented"/> proves to be, or null with the reason it proves none.</summary>
    public string? MemberOf(X509Certificate2? presented, out string reason)
    {
        if (presented is null)
        {
            reason = "no client certificate was presented";
            return null;
        }
        if (!Chains(presented, ClientAuthentication, out reason))
            return null;
        var member = MemberName(presented);
        reason = member is null ? $"the certificate '{presented.Subject}' names no member ({MemberUriScheme}:<node>)" : "";
        return member;
    }

    /// <summary>
    /// Whether <paramref name="presented"/>, a client's certificate, was issued by this authority for clients
    /// (a member's or a client's): what a node's TLS handshake asks before it asks who the caller is.
    /// </summary>
    public bool IssuedClient(X509Certificate2 presented, out string reason) => Chains(presented, ClientAuthentication, out reason);

    /// <summary>
    /// TLS for a caller of the cluster's nodes: the server must be trusted by this authority (and, when
    /// <paramref name="acceptsMember"/> is given, name a member it accepts); <paramref name="certificate"/>,
    /// when given, is asked for the caller's own on each new connection (a renewed file is used without a restart).
    /// </summary>
    public SslClientAuthenticationOptions ClientOptions(Func<X509Certificate2>? certificate = null, Func<string?, bool>? acceptsMember = null) => new()
    {
        RemoteCertificateValidationCallback = (_, server, _, errors) =>
            TrustsServer(server, errors) && (acceptsMember is null || acceptsMember(MemberName(server as X509Certificate2 ?? new X509Certificate2(server!)))),
        LocalCertificateSelectionCallback = certificate is null ? null : (_, _, _, _, _) => certificate(),
    };

    /// <summary>
    /// A handler for an HTTP or gRPC client of the cluster's nodes with <see cref="ClientOptions"/>'s TLS
    /// (several HTTP/2 connections to a node when one is full, as a gRPC channel's own handler allows).
    /// </summary>
    public SocketsHttpHandler Handler(Func<X509Certificate2>? certificate = null, Func<string?, bool>? acceptsMember = null) => new()
    {
        SslOptions = ClientOptions(certificate, acceptsMember),
        EnableMultipleHttp2Connections = true,
    };

    /// <summary>For an HTTPS or gRPC client: the server's certificate chains to this authority, its host matches, and it is in date.</summary>
    public bool TrustsServer(X509Certificate? certificate, SslPolicyErrors errors) =>
        certificate is not null
        && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
        && (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0
        && Chains(certificate as X509Certificate2 ?? new X509Certificate2(certificate), ServerAuthentication, out _);

    /// <summary>The node a certificate names as a member, read from its subject alternative names.</summary>
    public static string? MemberName(X509Certificate2 certificate)
    {
        if (certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault() is not { } names)
            return null;
        try
        {
            // GeneralNames ::= SEQUENCE OF GeneralName; a URI is [6] IA5String.
            var reader = new AsnReader(names.RawData, AsnEncodingRules.DER).ReadSequence();
            var uri = new Asn1Tag(TagClass.ContextSpecific, 6);
            const string prefix = MemberUriScheme + ":";
            while (reader.HasData)
            {
                if (reader.PeekTag() != uri)
                {
                    reader.ReadEncodedValue();
                    continue;
                }
                var text = reader.ReadCharacterString(UniversalTagNumber.IA5String, uri);
                if (text.StartsWith(prefix, StringComparison.Ordinal) && text.Length > prefix.Length)
                    return text[prefix.Length..];
            }
            return null;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    private bool Chains(X509Certificate2 certificate, string usage, out string reason)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Certificates);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid(usage));
        if (chain.Build(certificate))
        {
            reason = "";
            return true;
        }
        reason = $"the certificate '{certificate.Subject}' is not trusted: " +
                 string.Join("; ", chain.ChainStatus.Select(status => status.StatusInformation.Trim()).Distinct());
        return false;
    }

    public void Dispose()
    {
        foreach (var certificate in Certificates)
            certificate.Dispose();
    }
}
