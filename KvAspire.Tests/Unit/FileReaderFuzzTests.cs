using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>
/// Hostile input for the readers of <c>log.X</c> and <c>snap.X</c>: a valid file damaged at random
/// (bytes flipped, cut short, zeroed, garbage appended or inserted), 10,000 times each, from a fixed
/// seed. The only allowed outcomes are the reader's own: records that are exactly the file's originals,
/// a torn tail, or the corruption error. Never another exception, never a wrong record.
/// </summary>
[Trait("Category", "Unit")]
public sealed class FileReaderFuzzTests : IDisposable
{
    private const int Inputs = 10_000;
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void A_damaged_log_yields_only_its_original_records_a_torn_tail_or_the_corruption_error()
    {
        var random = new Random(7001);
        var entries = Enumerable.Range(1, 40).Select(i => Entry(random, i)).ToList();
        var original = LogBytes(entries);
        var path = Path.Combine(_directory.Path, "log.0");
        var outcomes = new Dictionary<string, int>();

        for (var input = 0; input < Inputs; input++)
        {
            var (damage, bytes) = Damage(random, original);
            File.WriteAllBytes(path, bytes);
            var read = new List<CommittedEntry>();
            string outcome;
            try
            {
                var scan = LogReader.Scan(path, entry => read.Add(LogRecordFormat.DecodePayload(entry.Body.Span)! with { Index = entry.Index, Term = entry.Term }),
                    _ => throw new InvalidOperationException("no commit record was written"));
                outcome = scan.TornTail is null ? "whole" : "torn tail";
                Assert.Equal(scan.Records, read.Count);
            }
            catch (LogCorruptException)
            {
                outcome = "corrupt";
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"input {input} ({damage}): {e.GetType().Name}: {e.Message}");
            }
            for (var i = 0; i < read.Count; i++)
                Assert.True(Same(entries[i], read[i]), $"input {input} ({damage}): record {i} is not the one written");
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        // The damage reaches every outcome, so each path of the reader was exercised.
        Assert.Equal(["corrupt", "torn tail", "whole"], outcomes.Keys.Order());
    }

    [Fact]
    public void A_damaged_snapshot_is_refused_with_the_corruption_error()
    {
        var random = new Random(7002);
        var original = SnapshotBytes(random);
        var refused = 0;

        for (var input = 0; input < Inputs; input++)
        {
            var (damage, bytes) = Damage(random, original);
            try
            {
                var (number, snapshot) = SnapshotFormat.Read(new MemoryStream(bytes), bytes.Length);
                // Only an undamaged file may be read (the checksum covers every byte).
                Assert.True(bytes.AsSpan().SequenceEqual(original), $"input {input} ({damage}) was read as snapshot {number} with {snapshot.Values.Count} keys");
            }
            catch (SnapshotCorruptException)
            {
                refused++;
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"input {input} ({damage}): {e.GetType().Name}: {e.Message}");
            }
        }

        Assert.True(refused > Inputs * 9 / 10, $"only {refused} of {Inputs} damaged snapshots were refused");
    }

    private static CommittedEntry Entry(Random random, long index)
    {
        var kind = (OperationKind)random.Next(1, 4);
        var value = new byte[random.Next(0, 64)];
        random.NextBytes(value);
        long? expected = random.Next(2) == 0 ? null : random.Next(1, 100);
        ClientRequestId? id = random.Next(3) == 0 ? null : new ClientRequestId($"client-{random.Next(5)}", (ulong)index);
        return new CommittedEntry(index, 1 + index / 10, 1_700_000_000_000 + index, [new KvOperation(kind, $"key-{random.Next(20)}-é", value, expected, id)]);
    }

    private static byte[] LogBytes(IReadOnlyList<CommittedEntry> entries)
    {
        var records = entries.Select(CommittedLogWriter.ToRaftEntry).ToList();
        var bytes = new byte[LogRecordFormat.FileHeaderSize + records.Sum(LogRecordFormat.EntryRecordSize)];
        LogRecordFormat.WriteFileHeader(bytes);
        var offset = LogRecordFormat.FileHeaderSize;
        foreach (var record in records)
            offset += LogRecordFormat.WriteEntryRecord(record, bytes.AsSpan(offset));
        return bytes;
    }

    private static byte[] SnapshotBytes(Random random)
    {
        var map = new KvMap();
        for (var index = 1L; index <= 60; index++)
            map.Apply(Entry(random, index));
        using var stream = new MemoryStream();
        SnapshotFormat.Write(stream, 3, map.Freeze());
        return stream.ToArray();
    }

    private static bool Same(CommittedEntry expected, CommittedEntry actual) =>
        LogRecordFormatTests.Describe(expected) == LogRecordFormatTests.Describe(actual);

    /// <summary>One random kind of damage to a copy of <paramref name="original"/>, and its description.</summary>
    private static (string Damage, byte[] Bytes) Damage(Random random, byte[] original)
    {
        var bytes = original.ToArray();
        var at = random.Next(bytes.Length);
        switch (random.Next(6))
        {
            case 0:
                var flips = random.Next(1, 4);
                for (var i = 0; i < flips; i++)
                    bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
                return ($"{flips} byte(s) flipped", bytes);
            case 1:
                return ($"cut at {at}", bytes[..at]);
            case 2:
                var zeros = random.Next(1, 64);
                Array.Clear(bytes, at, Math.Min(zeros, bytes.Length - at));
                return ($"{zeros} zeros at {at}", bytes);
            case 3:
                var garbage = new byte[random.Next(1, 64)];
                random.NextBytes(garbage);
                return ($"{garbage.Length} random bytes appended", [.. bytes, .. garbage]);
            case 4:
                var inserted = new byte[random.Next(1, 16)];
                random.NextBytes(inserted);
                return ($"{inserted.Length} random bytes inserted at {at}", [.. bytes[..at], .. inserted, .. bytes[at..]]);
            default:
                var text = Encoding.UTF8.GetBytes("\uFFFD\u0000not a record");
                text.CopyTo(bytes, Math.Min(at, bytes.Length - text.Length));
                return ($"text written at {at}", bytes);
        }
    }
}
