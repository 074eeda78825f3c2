using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.State;

/// <summary>
/// Byte layouts shared by the working log and the snapshot file. All integers little-endian.
/// <code>
/// record (24-byte header + payload), identical in the working log and in a snapshot:
///   0  int64  particle index
///   8  int32  payload length
///  12  uint32 generation (1 for the first put of a particle, +1 per overwrite)
///  16  uint64 StateHash64 of the payload, seeded with the particle index
///  24  payload
///
/// index entry (16 bytes, entry p at p * 16), identical in the mapped working index and in a snapshot:
///   0  int64  byte offset of the record in its file (0 = no record; records start at 64)
///   8  int32  payload length
///  12  uint32 generation
///
/// snapshot file:  header (64) | records in particle order, tiled | index (N * 16) | footer (32)
///   header:  0 "CFPSTATE"  8 uint32 version (1)  12 uint32 header size (64)  16 int64 N (particles)
///           24 int64 record count  32 int64 record bytes  40 int64 index offset  48 int64 file length
///           56 uint64 StateHash64 of bytes 0..55
///   footer:  0 "CFPSEND1"  8 uint64 StateHash64 of the index section  16 int64 record count  24 int64 file length
///
/// working log:  header (64: "CFPSLOG1", uint32 version, zeros) | records appended in put order
/// </code>
/// Records begin at byte 64 in both files, so a snapshot's index offsets are valid in a working log restored from
/// it by copying the record section verbatim.
/// </summary>
internal static class StateStoreFormat
{
    public const int HeaderSize = 64;
    public const int FooterSize = 32;
    public const int RecordHeaderSize = 24;
    public const int IndexEntrySize = 16;
    public const uint FormatVersion = 1;

    public static ReadOnlySpan<byte> SnapshotMagic => "CFPSTATE"u8;
    public static ReadOnlySpan<byte> FooterMagic => "CFPSEND1"u8;
    public static ReadOnlySpan<byte> LogMagic => "CFPSLOG1"u8;

    public static void WriteRecordHeader(Span<byte> dst, long particle, int length, uint generation, ulong hash)
    {
        BinaryPrimitives.WriteInt64LittleEndian(dst, particle);
        BinaryPrimitives.WriteInt32LittleEndian(dst[8..], length);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[12..], generation);
        BinaryPrimitives.WriteUInt64LittleEndian(dst[16..], hash);
    }

    /// <summary>Checks a record (header and payload) against the index entry that points at it.</summary>
    public static void VerifyRecord(ReadOnlySpan<byte> record, long particle, IndexEntry entry, string path)
    {
        long p = BinaryPrimitives.ReadInt64LittleEndian(record);
        int length = BinaryPrimitives.ReadInt32LittleEndian(record[8..]);
        uint generation = BinaryPrimitives.ReadUInt32LittleEndian(record[12..]);
        ulong hash = BinaryPrimitives.ReadUInt64LittleEndian(record[16..]);
        if (p != particle)
            Fail("record header names another particle", path, entry.Offset, particle, particle.ToString(), p.ToString());
        if (length != entry.Length)
            Fail("record length differs from the index", path, entry.Offset + 8, particle, entry.Length.ToString(), length.ToString());
        if (generation != entry.Generation)
            Fail("record generation differs from the index", path, entry.Offset + 12, particle, entry.Generation.ToString(), generation.ToString());
        ulong actual = StateHash64.Compute(record.Slice(RecordHeaderSize, length), (ulong)particle);
        if (actual != hash)
            Fail("record checksum mismatch: the payload is corrupted", path, entry.Offset, particle, $"0x{hash:x16}", $"0x{actual:x16}");
    }

    [DoesNotReturn]
    public static void Fail(string problem, string path, long offset, long? particle = null, string? expected = null, string? found = null) =>
        throw new StateStoreFormatException(problem, new DataLocation(FilePath: path, ByteOffset: offset, Record: particle, Expected: expected, Found: found));
}

/// <summary>Where a particle's current record is. <see cref="Offset"/> 0 means the particle has none.</summary>
internal readonly record struct IndexEntry(long Offset, int Length, uint Generation)
{
    public bool IsLive => Offset != 0;

    public long RecordSize => StateStoreFormat.RecordHeaderSize + (long)Length;

    public static IndexEntry Read(ReadOnlySpan<byte> src) => new(
        BinaryPrimitives.ReadInt64LittleEndian(src),
        BinaryPrimitives.ReadInt32LittleEndian(src[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(src[12..]));

    public void Write(Span<byte> dst)
    {
        BinaryPrimitives.WriteInt64LittleEndian(dst, Offset);
        BinaryPrimitives.WriteInt32LittleEndian(dst[8..], Length);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[12..], Generation);
    }
}

/// <summary>What a snapshot holds.</summary>
/// <param name="Path">the snapshot file</param>
/// <param name="ParticleCount">N, the key range 0..N-1</param>
/// <param name="RecordCount">particles with a record</param>
/// <param name="RecordBytes">bytes of the record section (headers and payloads)</param>
/// <param name="FileLength">bytes of the whole file</param>
public readonly record struct StateSnapshotInfo(string Path, long ParticleCount, long RecordCount, long RecordBytes, long FileLength);

/// <summary>Memory and disk held by a <see cref="ParticleStateStore"/>.</summary>
/// <param name="ManagedBytes">managed heap owned by the store: a constant (locks, small buffers), independent of N</param>
/// <param name="IndexMappedBytes">bytes of the memory-mapped index (16 per particle); page cache, resident only
/// where touched and reclaimable by the OS</param>
/// <param name="DataFileBytes">bytes of the working log on disk, live and garbage</param>
/// <param name="LiveBytes">bytes of current records (headers and payloads)</param>
/// <param name="GarbageBytes">bytes of overwritten records awaiting compaction</param>
public readonly record struct StateStoreMemory(long ManagedBytes, long IndexMappedBytes, long DataFileBytes, long LiveBytes, long GarbageBytes);
