using Google.Protobuf;
using KvAspire.Node.Storage;
using KvAspire.Routing;
using KvAspire.V1;

namespace KvAspire.Node.Ring;

/// <summary>
/// The layout a node last took, in <c>ring/layout.json</c> of its data directory: the <c>Layout</c> message
/// of the API in protobuf's JSON. Replaced whole (a new file synced, then renamed over the old), so a crash
/// leaves the old layout or the new one, never a mix. A node that starts routes with it, not with the
/// topology's: a ring that has changed since it started stays changed.
/// </summary>
public sealed class RingLayoutFile(string path)
{
    public const string Directory = "ring";
    public const string FileName = "layout.json";

    public static RingLayoutFile In(string dataDirectory) => new(System.IO.Path.Combine(dataDirectory, Directory, FileName));

    public string Path { get; } = path;

    /// <summary>The layout in the file; null when there is none yet.</summary>
    /// <exception cref="InvalidDataException">The file is not a layout: its message says why.</exception>
    public RingLayout? Load()
    {
        if (!File.Exists(Path))
            return null;
        try
        {
            return RingLayout.FromMessage(JsonParser.Default.Parse<Layout>(File.ReadAllText(Path)));
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidJsonException or FormatException)
        {
            throw new InvalidDataException($"{Path} is not a ring layout: {e.Message}", e);
        }
    }

    public void Save(RingLayout layout) => FileSync.ReplaceText(Path, JsonFormatter.Default.Format(layout.ToMessage()));
}
