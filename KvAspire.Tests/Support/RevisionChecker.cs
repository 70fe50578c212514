namespace KvAspire.Tests.Support;

/// <summary>
/// Checks the revisions a history's answers carried, position by position (the position that executed each
/// operation: the key's owner on a fixed ring, the one its answer's leader belongs to on a ring that changes): every acknowledged write has a
/// revision of its own, and revisions never go backwards in real time (an operation called after another
/// returned answers at least that one's revision, and a write a higher modify revision than any write
/// that returned before it was called). Writes before the position's baseline all answer revision 0.
/// Operations without an answer say nothing.
/// </summary>
public static class RevisionChecker
{
    /// <summary>What breaks those rules, at most <paramref name="limit"/> lines; empty when nothing does.</summary>
    public static IReadOnlyList<string> Check(IEnumerable<HistoryOperation> history, Func<HistoryOperation, int> positionOf, int limit = 20)
    {
        var violations = new List<string>();
        foreach (var position in history.Where(o => o.Outcome == HistoryOutcome.Ok).GroupBy(positionOf))
        {
            var writes = position.Where(o => o.Kind != HistoryKind.Read && o.ModRevision > 0);
            foreach (var shared in writes.GroupBy(o => o.ModRevision).Where(g => g.Count() > 1))
                violations.Add($"position {position.Key}: {shared.Count()} writes at revision {shared.Key}: {string.Join("; ", shared)}");

            var byReturn = position.OrderBy(o => o.Return).ToArray();
            var returned = 0;
            HistoryOperation? latest = null, latestWrite = null;
            foreach (var op in position.OrderBy(o => o.Call))
            {
                for (; returned < byReturn.Length && byReturn[returned].Return < op.Call; returned++)
                {
                    var before = byReturn[returned];
                    if (latest is null || before.Revision > latest.Revision)
                        latest = before;
                    if (before.Kind != HistoryKind.Read && (latestWrite is null || before.ModRevision > latestWrite.ModRevision))
                        latestWrite = before;
                }
                if (latest is not null && op.Revision < latest.Revision)
                    violations.Add($"position {position.Key}: {op} answered revision {op.Revision}, after {latest} had returned");
                if (op.Kind != HistoryKind.Read && latestWrite is { ModRevision: > 0 } && op.ModRevision <= latestWrite.ModRevision)
                    violations.Add($"position {position.Key}: {op} was written at revision {op.ModRevision}, after {latestWrite} had returned");
            }
        }
        return violations.Take(limit).ToList();
    }
}
