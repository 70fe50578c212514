namespace KvAspire.Driver.Transport;

public enum KvRequestKind
{
    Create,
    Read,
    Update,
    Delete,
}

/// <summary>One operation as the client sends it: the key, the value of a create or an update, and the expected version of a test-and-set.</summary>
public sealed record KvRequest(KvRequestKind Kind, string Key, ReadOnlyMemory<byte> Value = default, long? ExpectedVersion = null);
