using System.Text;
using KvAspire.Node.Storage;
using KvAspire.Operations;
using KvAspire.Tests.Support;

namespace KvAspire.Tests.Unit;

/// <summary>Replay of <c>log.0</c>: order, idempotence, torn tails cut off, corruption refused.</summary>
[Trait("Category", "Unit")]
public sealed class RecoveryTests : IDisposable
{
    private readonly NodeDataDirectory _directory = new();

    private string LogPath => _directory.File(DataFiles.LogName(0));

    public void Dispose() => _directory.Dispose();

    private static CommittedEntry Entry(long index, OperationKind kind, string key, string value = "") =>
        new(index, 0, 1000 + index, [new KvOperation(kind, key, Encoding.UTF8.GetBytes(value))]);

    private void WriteLog(params CommittedEntry[] entries)
    {
        using var log = OperationLog.Open(_directory.Path, 0, File.Exists(LogPath) ? new FileInfo(LogPath).Length : 0);
        log.AppendCommitted(entries);
    }

    /// <summary>Entries appended and synced, with no commit record after them (yet).</summary>
    private void WriteUncommitted(params CommittedEntry[] entries)
    {
        using var log = OperationLog.Open(_directory.Path, 0, new FileInfo(LogPath).Length);
        log.Append([.. entries.Select(CommittedLogWriter.ToRaftEntry)], committed: null);
    }

    private RecoveredState Recover() => _directory.Recover();

    private static string ValueOf(RecoveredState state, string key) => Encoding.UTF8.GetString(state.Map.Read(key).Value.Span);

    [Fact]
    public void An_empty_directory_recovers_an_empty_map_and_creates_the_log()
    {
        var state = Recover();

        Assert.Equal(0, state.Map.Count);
        Assert.Equal(0, state.LastIndex);
        Assert.Equal(LogRecordFormat.FileHeaderSize, new FileInfo(LogPath).Length);
    }

    [Fact]
    public void Replay_applies_every_record_in_order()
    {
        WriteLog(Entry(1, OperationKind.Create, "a", "1"), Entry(2, OperationKind.Update, "a", "2"));
        WriteLog(Entry(3, OperationKind.Create, "b", "x"), Entry(4, OperationKind.Delete, "b"), Entry(5, OperationKind.Create, "c", "y"));

        var state = Recover();

        Assert.Equal(5, state.LastIndex);
        Assert.Equal(1005, state.LastTimestampUnixMs);
        Assert.Equal("2", ValueOf(state, "a"));
        Assert.Equal(2, state.Map.Read("a").Version);
        Assert.Equal(ResultCode.NotFound, state.Map.Read("b").Code);
        Assert.Equal("y", ValueOf(state, "c"));
    }

    [Fact]
    public void Recovering_twice_gives_the_same_state_and_appends_continue_after_it()
    {
        WriteLog(Entry(1, OperationKind.Create, "a", "1"));
        var first = Recover();
        var second = Recover();
        WriteLog(Entry(2, OperationKind.Update, "a", "2"));
        var third = Recover();

        Assert.Equal((first.LastIndex, first.Map.Count), (second.LastIndex, second.Map.Count));
        Assert.Equal(2, third.LastIndex);
        Assert.Equal("2", ValueOf(third, "a"));
    }

    public static TheoryData<string, Func<byte[], byte[]>> TornTails => new()
    {
        { "last record cut short", bytes => bytes[..^3] },
        { "one garbage byte appended", bytes => [.. bytes, 0x5A] },
        { "a header's worth of zeros appended", bytes => [.. bytes, .. new byte[40]] },
        { "last record's payload damaged", bytes => { var copy = (byte[])bytes.Clone(); copy[^2] ^= 0xFF; return copy; } },
        { "half a record header appended", bytes => [.. bytes, 0x10, 0x00, 0x00] },
    };

    [Theory]
    [MemberData(nameof(TornTails))]
    public void A_torn_tail_is_cut_off_and_everything_before_it_kept(string damage, Func<byte[], byte[]> tear)
    {
        WriteLog(Entry(1, OperationKind.Create, "a", "1"), Entry(2, OperationKind.Create, "b", "2"));
        var intact = File.ReadAllBytes(LogPath);
        WriteUncommitted(Entry(3, OperationKind.Create, "c", "3"));
        var withThird = File.ReadAllBytes(LogPath);
        var torn = tear(damage.StartsWith("last record") ? withThird : intact);
        File.WriteAllBytes(LogPath, torn);

        var state = Recover();

        Assert.Equal("1", ValueOf(state, "a"));
        Assert.Equal("2", ValueOf(state, "b"));
        Assert.Equal(ResultCode.NotFound, state.Map.Read("c").Code);
        Assert.Equal(2, state.LastIndex);
        Assert.Equal(intact, File.ReadAllBytes(LogPath));
    }

    [Fact]
    public void Garbage_after_the_header_of_an_otherwise_empty_log_is_a_torn_tail()
    {
        Recover();
        var header = File.ReadAllBytes(LogPath);
        File.WriteAllBytes(LogPath, [.. header, .. "twelve bytes"u8]);

        var state = Recover();

        Assert.Equal(0, state.LastIndex);
        Assert.Equal(header, File.ReadAllBytes(LogPath));
    }

    [Fact]
    public void Random_junk_of_1_to_64_bytes_or_a_bogus_record_header_after_the_last_record_is_cut_off()
    {
        WriteLog(Entry(1, OperationKind.Create, "a", "1"), Entry(2, OperationKind.Create, "b", "2"));
        var intact = File.ReadAllBytes(LogPath);
        var random = new Random(4242);
        var tails = Enumerable.Range(0, 300).Select(_ => { var junk = new byte[random.Next(1, 65)]; random.NextBytes(junk); return junk; })
            .Append(BogusHeader(payloadLength: 20, claimedBytes: 20))
            .Append(BogusHeader(payloadLength: 5000, claimedBytes: 40))
            .Append([.. BogusHeader(payloadLength: 20, claimedBytes: 20), .. new byte[30]]);

        foreach (var tail in tails)
        {
            File.WriteAllBytes(LogPath, [.. intact, .. tail]);

            var state = Recover();

            Assert.Equal((2, "1", "2"), (state.LastIndex, ValueOf(state, "a"), ValueOf(state, "b")));
            Assert.Equal(intact, File.ReadAllBytes(LogPath));
        }
    }

    /// <summary>A record header whose length check holds, with payload bytes that fail the checksum.</summary>
    private static byte[] BogusHeader(int payloadLength, int claimedBytes)
    {
        var bytes = new byte[LogRecordFormat.RecordHeaderSize + claimedBytes];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes, payloadLength);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), ~payloadLength);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 0xDEADBEEF);
        bytes.AsSpan(LogRecordFormat.RecordHeaderSize).Fill(0x5A);
        return bytes;
    }

    [Fact]
    public void Junk_followed_by_a_good_record_stops_recovery()
    {
        WriteLog(Entry(1, OperationKind.Create, "a", "1"));
        var first = File.ReadAllBytes(LogPath);
        WriteLog(Entry(2, OperationKind.Create, "b", "2"));
        var secondRecord = File.ReadAllBytes(LogPath)[first.Length..];
        var damaged = (byte[])[.. first, .. "junk!"u8, .. secondRecord];
        File.WriteAllBytes(LogPath, damaged);

        var error = Assert.Throws<LogCorruptException>(Recover);

        Assert.Contains($"a good record starts at offset {first.Length + 5}", error.Message);
        Assert.Equal(damaged, File.ReadAllBytes(LogPath));
    }

    [Fact]
    public void A_damaged_record_with_good_records_after_it_stops_recovery()
    {
        WriteLog(Entry(1, OperationKind.Create, "a", "1"));
        var firstRecordEnd = new FileInfo(LogPath).Length;
        WriteLog(Entry(2, OperationKind.Create, "b", "2"), Entry(3, OperationKind.Create, "c", "3"));
        var bytes = File.ReadAllBytes(LogPath);
        bytes[firstRecordEnd + LogRecordFormat.RecordHeaderSize + 2] ^= 0xFF;
        File.WriteAllBytes(LogPath, bytes);

        var error = Assert.Throws<LogCorruptException>(Recover);

        Assert.Contains($"record at offset {firstRecordEnd} fails its checksum, and a good record starts at offset", error.Message);
        Assert.Equal(bytes, File.ReadAllBytes(LogPath));
    }

    [Fact]
    public void A_damaged_length_with_data_after_it_stops_recovery()
    {
        WriteLog(Entry(1, OperationKind.Create, "a", "1"), Entry(2, OperationKind.Create, "b", "2"));
        var bytes = File.ReadAllBytes(LogPath);
        bytes[LogRecordFormat.FileHeaderSize] ^= 0x40;
        File.WriteAllBytes(LogPath, bytes);

        var error = Assert.Throws<LogCorruptException>(Recover);

        Assert.Contains("damaged record header", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_log_stops_recovery()
    {
        File.WriteAllText(LogPath, "this is not a KvAspire log at all");

        var error = Assert.Throws<LogCorruptException>(Recover);

        Assert.Contains("bad magic", error.Message);
    }

    [Fact]
    public void Entries_after_the_last_commit_record_go_back_to_raft_without_reaching_the_map()
    {
        WriteLog(Entry(1, OperationKind.Create, "a", "1"));
        WriteUncommitted(Entry(2, OperationKind.Create, "b", "2"), Entry(3, OperationKind.Create, "c", "3"));

        var state = Recover();

        Assert.Equal((1L, 3L), (state.CommitIndex, state.LastIndex));
        Assert.Equal("1", ValueOf(state, "a"));
        Assert.Equal(ResultCode.NotFound, state.Map.Read("b").Code);
        Assert.Equal([1L, 2L, 3L], state.Entries.Select(e => e.Index));
    }

    [Fact]
    public void A_record_for_an_index_written_again_replaces_that_entry_and_every_one_after_it()
    {
        WriteLog(Entry(1, OperationKind.Create, "a", "1"));
        WriteUncommitted(Entry(2, OperationKind.Create, "b", "old"), Entry(3, OperationKind.Create, "c", "old"));
        WriteLog(Entry(2, OperationKind.Create, "b", "new") with { Term = 2 });

        var state = Recover();

        Assert.Equal((2L, 2L), (state.CommitIndex, state.LastIndex));
        Assert.Equal("new", ValueOf(state, "b"));
        Assert.Equal(ResultCode.NotFound, state.Map.Read("c").Code);
        Assert.Equal([(1L, 0L), (2L, 2L)], state.Entries.Select(e => (e.Index, e.Term)));
    }

    [Theory]
    [InlineData("raft/checkpoint")]
    [InlineData("raft/metadata/")]
    [InlineData("log.0 of format 2")]
    public void A_data_directory_of_an_earlier_release_is_refused_with_what_to_do(string leftBehind)
    {
        if (leftBehind.StartsWith("log.0"))
        {
            var header = new byte[LogRecordFormat.FileHeaderSize];
            LogRecordFormat.WriteFileHeader(header);
            header[4] = 2;
            File.WriteAllBytes(LogPath, header);
        }
        else if (leftBehind.EndsWith('/'))
            Directory.CreateDirectory(_directory.File(leftBehind));
        else
        {
            Directory.CreateDirectory(_directory.File("raft"));
            File.WriteAllBytes(_directory.File(leftBehind), new byte[20]);
        }
        var before = Directory.GetFileSystemEntries(_directory.Path, "*", SearchOption.AllDirectories).Order().ToList();

        var error = Assert.Throws<EarlierReleaseException>(Recover);

        Assert.Contains("earlier KvAspire release", error.Message);
        Assert.Contains("Upgrade one replica at a time", error.Message);
        Assert.Equal(before, Directory.GetFileSystemEntries(_directory.Path, "*", SearchOption.AllDirectories).Order());
    }
}
