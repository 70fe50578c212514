using KvAspire.Node.Storage;

namespace KvAspire.Tests.Support;

/// <summary>
/// Whether the replicas of a position applied the same entries: every index found in more than one
/// replica's <c>log.X</c> files must hold the same term and command in each. A replica that applied an
/// entry the others did not (or skipped one they applied) shows up here even when no client read the
/// difference. The logs are read while the nodes run: a torn tail is left out.
/// </summary>
public static class ReplicaAgreement
{
    /// <summary>The disagreements found (empty when none), and how many indexes were compared.</summary>
    public static (IReadOnlyList<string> Disagreements, int Compared) Check(TestTopology topology, int position)
    {
        var byReplica = topology.ReplicasOf(position).ToDictionary(n => n.Name, n => Applied(topology.DataDirectoryOf(n)));
        var disagreements = new List<string>();
        var compared = 0;
        foreach (var index in byReplica.Values.SelectMany(entries => entries.Keys).Distinct().Order())
        {
            var holders = byReplica.Where(r => r.Value.ContainsKey(index)).ToList();
            if (holders.Count < 2)
                continue;
            compared++;
            var descriptions = holders.Select(h => h.Value[index]).Distinct().ToList();
            if (descriptions.Count > 1)
                disagreements.Add($"index {index}: " + string.Join("; ", holders.Select(h => $"{h.Key} {h.Value[index]}")));
        }
        return (disagreements, compared);
    }

    private static Dictionary<long, string> Applied(string directory)
    {
        var entries = new Dictionary<long, string>();
        foreach (var log in DataFiles.List(directory).Logs)
        {
            try
            {
                LogReader.Scan(Path.Combine(directory, DataFiles.LogName(log)), entry =>
                    entries[entry.Index] = $"term {entry.Term} {entry.Command.Kind} '{entry.Command.Key}' " +
                                           $"{entry.Command.RequestId?.ClientId}/{entry.Command.RequestId?.Sequence} {Convert.ToHexString(entry.Command.Value.Span)}");
            }
            catch (FileNotFoundException)
            {
                // Removed by a snapshot after it was listed: its entries are in the snapshot.
            }
        }
        return entries;
    }
}
