using System.Buffers.Binary;
using static CryoFlow.Formats.State.StateStoreFormat;

namespace CryoFlow.Formats.State;

/// <summary>
/// Validates a snapshot written by <see cref="ParticleStateStore.Snapshot"/> end to end, in two sequential passes
/// and bounded memory, optionally copying its index and record section into a working store's files. Every defect
/// is a <see cref="StateStoreFormatException"/> naming the file and byte offset: a file shorter or longer than its
/// header declares, a bad magic, version or header checksum, a footer that disagrees, an index checksum mismatch,
/// an index entry out of place, and a record whose header or payload checksum disagrees with its index entry.
/// </summary>
internal static class StateSnapshotReader
{
    private const int ChunkBytes = 4096 * IndexEntrySize;

    public static void EncodeHeader(Span<byte> header, long particles, long records, long recordBytes, long indexOffset, long fileLength)
    {
        header.Clear();
        SnapshotMagic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], HeaderSize);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], particles);
        BinaryPrimitives.WriteInt64LittleEndian(header[24..], records);
        BinaryPrimitives.WriteInt64LittleEndian(header[32..], recordBytes);
        BinaryPrimitives.WriteInt64LittleEndian(header[40..], indexOffset);
        BinaryPrimitives.WriteInt64LittleEndian(header[48..], fileLength);
        BinaryPrimitives.WriteUInt64LittleEndian(header[56..], StateHash64.Compute(header[..56]));
    }

    /// <param name="path">the snapshot</param>
    /// <param name="records">receives the record section (records start at byte 64 in both files), or null</param>
    /// <param name="index">receives the N index entries, or null</param>
    public static StateSnapshotInfo Read(string path, Stream? records, Stream? index)
    {
        path = Path.GetFullPath(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        long actual = file.Length;
        if (actual < HeaderSize)
            Fail("file ends inside the snapshot header (truncated)", path, actual, null, $"at least {HeaderSize} bytes", $"{actual}");

        Span<byte> header = stackalloc byte[HeaderSize];
        file.ReadExactly(header);
        if (!header[..8].SequenceEqual(SnapshotMagic))
            Fail("not a CryoFlow particle-state snapshot (bad magic)", path, 0, null, "CFPSTATE", Printable(header[..8]));
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version != FormatVersion)
            Fail("unsupported snapshot format version", path, 8, null, FormatVersion.ToString(), version.ToString());
        ulong headerHash = BinaryPrimitives.ReadUInt64LittleEndian(header[56..]);
        ulong computed = StateHash64.Compute(header[..56]);
        if (headerHash != computed)
            Fail("header checksum mismatch: the header is corrupted", path, 56, null, $"0x{headerHash:x16}", $"0x{computed:x16}");
        long particles = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        long recordCount = BinaryPrimitives.ReadInt64LittleEndian(header[24..]);
        long recordBytes = BinaryPrimitives.ReadInt64LittleEndian(header[32..]);
        long indexOffset = BinaryPrimitives.ReadInt64LittleEndian(header[40..]);
        long fileLength = BinaryPrimitives.ReadInt64LittleEndian(header[48..]);
        if (particles < 1 || particles > long.MaxValue / (4 * IndexEntrySize))
            Fail("particle count out of range", path, 16, null, "1 or more", particles.ToString());
        if (recordCount < 0 || recordCount > particles)
            Fail("record count out of range", path, 24, null, $"0..{particles}", recordCount.ToString());
        if (recordBytes < recordCount * RecordHeaderSize || recordBytes > long.MaxValue / 4)
            Fail("record section size out of range", path, 32, null, $">= {recordCount * RecordHeaderSize}", recordBytes.ToString());
        if (indexOffset != HeaderSize + recordBytes)
            Fail("index offset disagrees with the record section", path, 40, null, (HeaderSize + recordBytes).ToString(), indexOffset.ToString());
        long expectedLength = indexOffset + particles * IndexEntrySize + FooterSize;
        if (fileLength != expectedLength)
            Fail("declared file length disagrees with the sections", path, 48, null, expectedLength.ToString(), fileLength.ToString());
        if (actual < fileLength)
            Fail("file is shorter than its header declares (truncated)", path, actual, null, $"{fileLength} bytes", $"{actual}");
        if (actual > fileLength)
            Fail("file is longer than its header declares (trailing bytes)", path, fileLength, null, $"{fileLength} bytes", $"{actual}");

        Span<byte> footer = stackalloc byte[FooterSize];
        long footerOffset = fileLength - FooterSize;
        file.Position = footerOffset;
        file.ReadExactly(footer);
        if (!footer[..8].SequenceEqual(FooterMagic))
            Fail("bad footer magic", path, footerOffset, null, "CFPSEND1", Printable(footer[..8]));
        if (BinaryPrimitives.ReadInt64LittleEndian(footer[16..]) != recordCount)
            Fail("footer record count disagrees with the header", path, footerOffset + 16, null, recordCount.ToString(), BinaryPrimitives.ReadInt64LittleEndian(footer[16..]).ToString());
        if (BinaryPrimitives.ReadInt64LittleEndian(footer[24..]) != fileLength)
            Fail("footer file length disagrees with the header", path, footerOffset + 24, null, fileLength.ToString(), BinaryPrimitives.ReadInt64LittleEndian(footer[24..]).ToString());

        // Pass 1: the index checksum, so no entry is trusted before the whole section is known intact.
        long indexBytes = particles * IndexEntrySize;
        byte[] chunk = new byte[ChunkBytes];
        file.Position = indexOffset;
        ulong hash = StateHash64.Begin(0);
        for (long done = 0; done < indexBytes;)
        {
            int n = (int)Math.Min(ChunkBytes, indexBytes - done);
            file.ReadExactly(chunk, 0, n);
            hash = StateHash64.AppendWords(hash, chunk.AsSpan(0, n));
            index?.Write(chunk, 0, n);
            done += n;
        }
        ulong indexHash = StateHash64.Finish(hash, indexBytes);
        ulong storedIndexHash = BinaryPrimitives.ReadUInt64LittleEndian(footer[8..]);
        if (indexHash != storedIndexHash)
            Fail("index checksum mismatch: the index section is corrupted", path, indexOffset, null, $"0x{storedIndexHash:x16}", $"0x{indexHash:x16}");

        // Pass 2: records, in particle order and tiled from byte 64, each against its entry.
        using var entries = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        entries.Position = indexOffset;
        file.Position = HeaderSize;
        long position = HeaderSize;
        long seen = 0;
        byte[] record = new byte[4096];
        Span<byte> raw = stackalloc byte[IndexEntrySize];
        for (long p = 0; p < particles; p++)
        {
            entries.ReadExactly(raw);
            var e = IndexEntry.Read(raw);
            long entryOffset = indexOffset + p * IndexEntrySize;
            if (!e.IsLive)
            {
                if (e.Length != 0 || e.Generation != 0)
                    Fail("index entry without a record has a length or generation", path, entryOffset, p, "zeros", $"{e.Length}, {e.Generation}");
                continue;
            }
            if (e.Offset != position)
                Fail("index entry points outside the record sequence", path, entryOffset, p, position.ToString(), e.Offset.ToString());
            if (e.Length < 0 || e.Length > ParticleStateStore.MaxRecordLength || e.Offset + e.RecordSize > indexOffset)
                Fail("index entry length out of range", path, entryOffset + 8, p, $"0..{Math.Min(ParticleStateStore.MaxRecordLength, indexOffset - e.Offset - RecordHeaderSize)}", e.Length.ToString());
            if (e.Generation == 0)
                Fail("index entry of a record has generation 0", path, entryOffset + 12, p, "1 or more", "0");
            int size = (int)e.RecordSize;
            if (record.Length < size) record = new byte[Math.Max(size, 2 * record.Length)];
            file.ReadExactly(record, 0, size);
            VerifyRecord(record.AsSpan(0, size), p, e, path);
            records?.Write(record, 0, size);
            position += size;
            seen++;
        }
        if (position != indexOffset)
            Fail("record section holds bytes no index entry accounts for", path, position, null, $"records up to {indexOffset}", $"records up to {position}");
        if (seen != recordCount)
            Fail("record count disagrees with the index", path, 24, null, recordCount.ToString(), seen.ToString());
        return new StateSnapshotInfo(path, particles, recordCount, recordBytes, fileLength);
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = bytes[i] is >= 0x20 and < 0x7f ? (char)bytes[i] : '.';
        return new string(chars);
    }
}
