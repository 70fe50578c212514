using KvAspire.Node.Storage;

namespace KvAspire.Tests.Support;

/// <summary>
/// Whether the replicas of a position applied the same entries, read from their <c>log.X</c> files: an
/// index held by several replicas must hold the same term and command in each, and an index one replica
/// holds must not be missing from the middle of another's log file (a replica that applied an entry the
/// others never had, or skipped one they applied). Raft's own entries (a new leader's no-op) are in no
/// log, so the gaps they leave are the same everywhere. A torn tail is left out.
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
        var replica = new Replica([], []);
        foreach (var log in DataFiles.List(directory).Logs)
        {
            var (first, last) = (long.MaxValue, long.MinValue);
            try
            {
                LogReader.Scan(Path.Combine(directory, DataFiles.LogName(log)), entry =>
                {
                    replica.Entries[entry.Index] = $"term {entry.Term} " + string.Join(", ", entry.Operations.Select(o =>
                        $"{o.Kind} '{o.Key}' {o.RequestId?.ClientId}/{o.RequestId?.Sequence} {Convert.ToHexString(o.Value.Span)}"));
                    (first, last) = (Math.Min(first, entry.Index), Math.Max(last, entry.Index));
                });
            }
            catch (FileNotFoundException)
            {
                // Removed by a snapshot after it was listed: its entries are in the snapshot.
            }
            if (first <= last)
                replica.Spans.Add((first, last));
        }
        return replica;
    }
}
