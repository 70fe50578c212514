using KvAspire.Node.Storage;

namespace KvAspire.Tests.Support;

/// <summary>
/// Whether the replicas of a position committed the same entries, read from their <c>log.X</c> files (the
/// Raft log, each record for an index replacing the entries from there on, up to the replica's last commit
/// record): an index held by several replicas must hold the same term and command in each, and an index
/// one replica holds must not be missing from the middle of another's log file (a replica that applied an
/// entry the others never had, or skipped one they applied). A torn tail is left out.
/// </summary>
public static class ReplicaAgreement
{
    /// <summary>The disagreements found (empty when none), and how many indexes were compared.</summary>
    public static (IReadOnlyList<string> Disagreements, int Compared) Check(TestTopology topology, int position)
    {
        var replicas = topology.ReplicasOf(position).ToDictionary(n => n.Name, n => Read(topology.DataDirectoryOf(n)));
        var disagreements = new List<string>();
        var compared = 0;
        foreach (var index in replicas.Values.SelectMany(r => r.Entries.Keys).Distinct().Order())
        {
            var holders = replicas.Where(r => r.Value.Entries.ContainsKey(index)).ToList();
            var skippers = replicas.Where(r => !r.Value.Entries.ContainsKey(index) && r.Value.Spans.Any(s => s.First < index && index < s.Last)).ToList();
            if (holders.Count + skippers.Count < 2)
                continue;
            compared++;
            if (holders.Select(h => h.Value.Entries[index]).Distinct().Count() > 1 || skippers.Count > 0)
            {
                disagreements.Add($"index {index}: " + string.Join("; ",
                    holders.Select(h => $"{h.Key} {h.Value.Entries[index]}").Concat(skippers.Select(s => $"{s.Key} nothing"))));
            }
        }
        return (disagreements, compared);
    }

    private sealed record Replica(Dictionary<long, string> Entries, List<(long First, long Last)> Spans);

    private static Replica Read(string directory)
    {
        var entries = new SortedDictionary<long, string>();
        var files = new List<(long First, long Last)>();
        long committed = 0;
        foreach (var log in DataFiles.List(directory).Logs)
        {
            var (first, last) = (long.MaxValue, long.MinValue);
            try
            {
                LogReader.Scan(Path.Combine(directory, DataFiles.LogName(log)), entry =>
                {
                    foreach (var replaced in entries.Keys.Where(index => index >= entry.Index).ToList())
                        entries.Remove(replaced);
                    entries[entry.Index] = $"term {entry.Term} " + (LogRecordFormat.DecodePayload(entry.Body.Span) is { } writes
                        ? string.Join(", ", writes.Operations.Select(o =>
                            $"{o.Kind} '{o.Key}' {o.RequestId?.ClientId}/{o.RequestId?.Sequence} {Convert.ToHexString(o.Value.Span)}"))
                        : $"Raft's own entry {Convert.ToHexString(entry.Body.Span)}");
                    (first, last) = (Math.Min(first, entry.Index), Math.Max(last, entry.Index));
                }, commit => committed = Math.Max(committed, commit));
            }
            catch (FileNotFoundException)
            {
                // Removed by a snapshot after it was listed: its entries are in the snapshot.
            }
            if (first <= last)
                files.Add((first, last));
        }
        var replica = new Replica(entries.Where(e => e.Key <= committed).ToDictionary(), []);
        replica.Spans.AddRange(files.Select(f => (f.First, Math.Min(f.Last, committed))).Where(f => f.First <= f.Item2));
        return replica;
    }
}
