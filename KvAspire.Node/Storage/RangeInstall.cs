namespace KvAspire.Node.Storage;

/// <summary>
/// One part of a range another position gives this one (a move's copy, <see cref="RangeExport"/>), for
/// the move to ring epoch <see cref="Epoch"/>: keys with their versions, revisions and timestamps, client
/// sessions, and the giver's revision, as a snapshot holds them. The <see cref="First"/> part of a copy
/// first drops whatever keys the map holds outside its claim (left by an earlier copy that never became
/// a claim), so that a copy tried again leaves exactly the giver's keys.
/// </summary>
public sealed record RangeInstall(long Epoch, bool First, MapSnapshot Part);
