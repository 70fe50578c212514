using Microsoft.AspNetCore.Connections;

namespace KvAspire.Node.Membership;

/// <summary>Two Raft addresses are one member when their URIs are equal (host case aside).</summary>
public sealed class RaftAddressComparer : IEqualityComparer<UriEndPoint>
{
    public static readonly RaftAddressComparer Instance = new();

    public bool Equals(UriEndPoint? x, UriEndPoint? y) => x is null ? y is null : y is not null && Uri.Compare(x.Uri, y.Uri,
        UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    public int GetHashCode(UriEndPoint obj) =>
        obj.Uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.Unescaped).ToUpperInvariant().GetHashCode(StringComparison.Ordinal);
}
