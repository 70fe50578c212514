using KvAspire.Operations;

namespace KvAspire.Node.Storage;

/// <summary>
/// One entry of the order the node committed: the writes one Raft entry carries (one, or several that
/// waited together on the leader), applied in list order, all or none. <see cref="Index"/> is its place
/// in that order (the Raft index once the position is replicated; <see cref="Term"/> is 0 until then).
/// A <see cref="StartsRevisions"/> entry carries no writes: it is the position's baseline, from which its
/// map counts revisions (<see cref="KvMap.Revision"/>). A <see cref="Claim"/> entry carries none either: from
/// it on, the map serves only the keys of that range (<see cref="KvMap.Claim"/>); with a <see cref="Fence"/>, it
/// is a giver's smaller range and the move it gives the rest in (<see cref="KvMap.Move"/>). An <see cref="Install"/>
/// entry carries a part of a range another position gives this one; a <see cref="DropsUnclaimed"/> entry
/// removes the keys outside the claim (a giver's, once the move is done). Neither carries writes.
/// </summary>
public sealed record CommittedEntry(long Index, long Term, long TimestampUnixMs, IReadOnlyList<KvOperation> Operations, bool StartsRevisions = false,
    OwnedRange? Claim = null, RangeInstall? Install = null, bool DropsUnclaimed = false, MovePlan? Fence = null);
