using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using KvAspire.V1;

namespace KvAspire.Routing;

/// <summary>
/// How a request says which layout it was routed with, and how a node with a newer one refuses it: the
/// header <c>kvaspire-epoch</c> on the request; FAILED_PRECONDITION, a detail starting "stale route", and the
/// node's layout in the binary trailer <c>kvaspire-layout-bin</c> on the answer. FAILED_PRECONDITION also
/// answers a write whose expected version does not match; the trailer tells the two apart.
/// </summary>
public static class StaleRoute
{
    public const string EpochHeader = "kvaspire-epoch";
    public const string LayoutTrailer = "kvaspire-layout-bin";

    /// <summary>The epoch a request was routed with; null when it does not say (a caller that does not know the layout).</summary>
    public static long? EpochOf(Metadata headers) =>
        long.TryParse(headers.GetValue(EpochHeader), NumberStyles.None, CultureInfo.InvariantCulture, out var epoch) ? epoch : null;

    /// <summary>The header entry saying a request was routed with <paramref name="epoch"/>.</summary>
    public static Metadata.Entry Header(long epoch) => new(EpochHeader, epoch.ToString(CultureInfo.InvariantCulture));

    /// <summary>The refusal of a request routed with <paramref name="routedWith"/> by a node whose layout is <paramref name="current"/>.</summary>
    public static RpcException Refusal(long routedWith, RingLayout current, string why) =>
        new(new Status(StatusCode.FailedPrecondition, $"stale route: the request was routed with ring epoch {routedWith}, {why}; the ring is at epoch {current.Epoch}"),
            new Metadata { { LayoutTrailer, current.ToMessage().ToByteArray() } });

    /// <summary>The newer layout a refusal carries; null when <paramref name="e"/> is not a stale route's refusal.</summary>
    /// <exception cref="FormatException">It carries one that is not a ring.</exception>
    public static RingLayout? LayoutOf(RpcException e)
    {
        if (e.StatusCode != StatusCode.FailedPrecondition || e.Trailers.GetValueBytes(LayoutTrailer) is not { } bytes)
            return null;
        try
        {
            return RingLayout.FromMessage(Layout.Parser.ParseFrom(bytes));
        }
        catch (InvalidProtocolBufferException invalid)
        {
            throw new FormatException($"the layout of a stale route's refusal cannot be read: {invalid.Message}", invalid);
        }
    }
}
