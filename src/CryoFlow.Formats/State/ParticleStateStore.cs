using System.Buffers;
using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;
using static CryoFlow.Formats.State.StateStoreFormat;

namespace CryoFlow.Formats.State;

/// <summary>Choices for <see cref="ParticleStateStore"/>.</summary>
public sealed record ParticleStateStoreOptions
{
    /// <summary>Compact the working log when overwritten (garbage) bytes exceed this fraction of it.</summary>
    public double CompactionGarbageFraction { get; init; } = 0.5;

    /// <summary>Never compact a log smaller than this; small logs are cheaper to keep than to rewrite.</summary>
    public long CompactionMinimumBytes { get; init; } = 64L << 20;
}

/// <summary>
/// Disk-backed store of one variable-length byte record per particle (0..N-1): the importance-sampling states
/// (DESIGN 4.2) and anything else small and per-particle. Resident managed memory does not grow with N.
/// <para>
/// Working files, in a scratch directory of their own: <c>data.log</c>, an append-only log of records (header with
/// particle, length, generation and checksum, then the payload; see <see cref="StateStoreFormat"/>), and
/// <c>index.bin</c>, N 16-byte entries (offset, length, generation) memory-mapped, so the index lives in the page
/// cache rather than on the managed heap. A put appends at a tail reserved atomically and then updates the
/// particle's entry; a get reads the entry and one positional read of that record, verifying its checksum. No read
/// cache: the OS page cache already holds hot records.
/// </para>
/// <para>
/// Overwrites leave garbage. When garbage exceeds <see cref="ParticleStateStoreOptions.CompactionGarbageFraction"/>
/// of the log (and the log exceeds <see cref="ParticleStateStoreOptions.CompactionMinimumBytes"/>), the next put
/// compacts: live records are copied in particle order to <c>data.log.compact</c>, which replaces the log, and the
/// index is rewritten. Compaction, like <see cref="Snapshot"/>, holds the store exclusively; gets and puts wait.
/// </para>
/// <para>
/// Durability: the working files are scratch and make no crash promise. Checkpoints use <see cref="Snapshot"/>, an
/// atomic, self-validating single file; a resumed run restores it with <see cref="Open"/>.
/// </para>
/// Thread safety: gets and puts from any number of threads. Puts to the same particle from two threads at once
/// leave one of them, not a mixture; the pipeline gives each particle to one worker at a time.
/// </summary>
public sealed unsafe class ParticleStateStore : IDisposable
{
    /// <summary>The largest record accepted (64 MiB); states are 50 B to 50 KB.</summary>
    public const int MaxRecordLength = 64 << 20;

    private const int StripeCount = 1024;
    private const int IndexChunkEntries = 4096;
    private const string DataFileName = "data.log";
    private const string IndexFileName = "index.bin";
    private const string TempInfix = ".tmp-";

    private readonly Lock[] _stripes;
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private readonly ParticleStateStoreOptions _options;
    private MemoryMappedFile _indexMap;
    private MemoryMappedViewAccessor _indexView;
    private byte* _index;
    private SafeFileHandle _data;
    private long _tail;
    private long _liveRecords;
    private long _liveBytes;
    private long _garbageBytes;
    private bool _disposed;

    private ParticleStateStore(string directory, long particleCount, ParticleStateStoreOptions options, long tail, long liveRecords, long liveBytes)
    {
        Directory = directory;
        ParticleCount = particleCount;
        _options = options;
        DataPath = Path.Combine(directory, DataFileName);
        IndexPath = Path.Combine(directory, IndexFileName);
        _tail = tail;
        _liveRecords = liveRecords;
        _liveBytes = liveBytes;
        _stripes = new Lock[StripeCount];
        for (int i = 0; i < StripeCount; i++) _stripes[i] = new Lock();
        _data = OpenData(DataPath, FileMode.Open);
        MapIndex(particleCount);
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_indexMap), nameof(_indexView))]
    private void MapIndex(long particleCount)
    {
        _indexMap = MemoryMappedFile.CreateFromFile(IndexPath, FileMode.Open, null, checked(particleCount * IndexEntrySize), MemoryMappedFileAccess.ReadWrite);
        _indexView = _indexMap.CreateViewAccessor(0, particleCount * IndexEntrySize, MemoryMappedFileAccess.ReadWrite);
        byte* p = null;
        _indexView.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _index = p + _indexView.PointerOffset;
    }

    /// <summary>
    /// Makes room for particles up to <paramref name="particleCount"/> (a live run's pool grows): the index file is
    /// extended with "no record" entries and mapped again; records stay where they are. Holds the store exclusively.
    /// </summary>
    public void Grow(long particleCount)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(particleCount, long.MaxValue / IndexEntrySize / 2);
        EnterExclusive();
        try
        {
            if (particleCount < ParticleCount) throw new ArgumentOutOfRangeException(nameof(particleCount), $"the store holds {ParticleCount} particles; it does not shrink");
            if (particleCount == ParticleCount) return;
            _indexView.Flush();
            _indexView.SafeMemoryMappedViewHandle.ReleasePointer();
            _indexView.Dispose();
            _indexMap.Dispose();
            using (var index = new FileStream(IndexPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
                index.SetLength(particleCount * IndexEntrySize); // sparse zeros: "no record"
            MapIndex(particleCount);
            ParticleCount = particleCount;
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>The working directory.</summary>
    public string Directory { get; }

    /// <summary>The working log.</summary>
    public string DataPath { get; }

    /// <summary>The memory-mapped index.</summary>
    public string IndexPath { get; }

    /// <summary>N: particles are 0..N-1.</summary>
    public long ParticleCount { get; private set; }

    /// <summary>Particles with a record.</summary>
    public long RecordCount => Interlocked.Read(ref _liveRecords);

    /// <summary>
    /// A new, empty store of <paramref name="particleCount"/> particles in <paramref name="directory"/> (created if
    /// needed); working files already there are replaced.
    /// </summary>
    public static ParticleStateStore Create(string directory, long particleCount, ParticleStateStoreOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(particleCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(particleCount, long.MaxValue / IndexEntrySize / 2);
        options = Validate(options);
        directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(directory);
        using (var data = OpenData(Path.Combine(directory, DataFileName), FileMode.Create))
        {
            RandomAccess.Write(data, LogHeader(), 0);
            RandomAccess.SetLength(data, HeaderSize);
        }
        using (var index = new FileStream(Path.Combine(directory, IndexFileName), FileMode.Create, FileAccess.Write, FileShare.None))
            index.SetLength(particleCount * IndexEntrySize); // sparse zeros: every entry "no record"
        return new ParticleStateStore(directory, particleCount, options, HeaderSize, 0, 0);
    }

    /// <summary>
    /// Validates the snapshot at <paramref name="snapshotPath"/> completely (header, footer, index checksum, every
    /// record's checksum and place) and restores it into the working <paramref name="directory"/> for a resumed run.
    /// </summary>
    /// <exception cref="StateStoreFormatException">the snapshot is truncated, corrupted or not a snapshot; names the
    /// file, the byte offset and, for a record, the particle</exception>
    public static ParticleStateStore Open(string snapshotPath, string directory, ParticleStateStoreOptions? options = null)
    {
        options = Validate(options);
        directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(directory);
        string dataPath = Path.Combine(directory, DataFileName);
        string indexPath = Path.Combine(directory, IndexFileName);
        bool ok = false;
        StateSnapshotInfo info;
        try
        {
            using (var data = new FileStream(dataPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            using (var index = new FileStream(indexPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                data.Write(LogHeader());
                info = StateSnapshotReader.Read(snapshotPath, data, index);
            }
            ok = true;
        }
        finally
        {
            if (!ok)
            {
                File.Delete(dataPath);
                File.Delete(indexPath);
            }
        }
        return new ParticleStateStore(directory, info.ParticleCount, options, HeaderSize + info.RecordBytes, info.RecordCount, info.RecordBytes);
    }

    /// <summary>Checks a snapshot completely without restoring it.</summary>
    /// <exception cref="StateStoreFormatException">as for <see cref="Open"/></exception>
    public static StateSnapshotInfo VerifySnapshot(string snapshotPath) => StateSnapshotReader.Read(snapshotPath, null, null);

    /// <summary>Stores <paramref name="record"/> as the particle's state, replacing any previous one.</summary>
    public void Put(long particle, ReadOnlySpan<byte> record)
    {
        CheckParticle(particle);
        if (record.Length > MaxRecordLength)
            throw new ArgumentException($"record of {record.Length} bytes exceeds the {MaxRecordLength}-byte limit", nameof(record));
        int size = RecordHeaderSize + record.Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        bool compact;
        try
        {
            ulong hash = StateHash64.Compute(record, (ulong)particle);
            record.CopyTo(buffer.AsSpan(RecordHeaderSize));
            EnterShared();
            try
            {
                lock (Stripe(particle))
                {
                    var old = ReadEntry(particle);
                    uint generation = old.Generation + 1;
                    WriteRecordHeader(buffer, particle, record.Length, generation, hash);
                    long offset = Interlocked.Add(ref _tail, size) - size;
                    RandomAccess.Write(_data, buffer.AsSpan(0, size), offset);
                    WriteEntry(particle, new IndexEntry(offset, record.Length, generation));
                    if (old.IsLive)
                    {
                        Interlocked.Add(ref _garbageBytes, old.RecordSize);
                        Interlocked.Add(ref _liveBytes, size - old.RecordSize);
                    }
                    else
                    {
                        Interlocked.Increment(ref _liveRecords);
                        Interlocked.Add(ref _liveBytes, size);
                    }
                }
                compact = CompactionDue();
            }
            finally
            {
                _gate.ExitReadLock();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (compact) CompactIfDue();
    }

    /// <summary>Payload length of the particle's record, or -1 if it has none.</summary>
    public int GetLength(long particle)
    {
        var e = Entry(particle);
        return e.IsLive ? e.Length : -1;
    }

    /// <summary>Generation of the particle's record: 0 if none, 1 after the first put, +1 per overwrite.</summary>
    public uint GetGeneration(long particle) => Entry(particle).Generation;

    /// <summary>Copies the particle's record into <paramref name="destination"/>.</summary>
    /// <returns>the record length, or -1 if the particle has none</returns>
    /// <exception cref="ArgumentException">destination shorter than the record (see <see cref="GetLength"/>)</exception>
    /// <exception cref="StateStoreFormatException">the record on disk fails its checksum</exception>
    public int Read(long particle, Span<byte> destination)
    {
        CheckParticle(particle);
        EnterShared();
        try
        {
            IndexEntry e;
            lock (Stripe(particle)) e = ReadEntry(particle);
            if (!e.IsLive) return -1;
            if (destination.Length < e.Length)
                throw new ArgumentException($"particle {particle}: record is {e.Length} bytes, destination {destination.Length}", nameof(destination));
            int size = (int)e.RecordSize;
            byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                ReadRecord(particle, e, buffer.AsSpan(0, size));
                buffer.AsSpan(RecordHeaderSize, e.Length).CopyTo(destination);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            return e.Length;
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>The particle's record as a new array, or null if it has none.</summary>
    /// <exception cref="StateStoreFormatException">the record on disk fails its checksum</exception>
    public byte[]? Get(long particle)
    {
        CheckParticle(particle);
        EnterShared();
        try
        {
            IndexEntry e;
            lock (Stripe(particle)) e = ReadEntry(particle);
            if (!e.IsLive) return null;
            int size = (int)e.RecordSize;
            byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                ReadRecord(particle, e, buffer.AsSpan(0, size));
                return buffer.AsSpan(RecordHeaderSize, e.Length).ToArray();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>Rewrites the log with live records only (normally triggered by puts).</summary>
    public void Compact()
    {
        EnterExclusive();
        try
        {
            CompactLocked();
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>
    /// Writes a consistent snapshot of every particle's current record to <paramref name="path"/>: a temporary
    /// sibling (<c>path.tmp-*</c>) is written, flushed to disk and renamed over <paramref name="path"/>, so a crash at
    /// any instant leaves the previous snapshot there intact. Temporary files left by earlier crashed snapshots to the
    /// same path are deleted first. Puts and gets wait while it runs (a checkpoint happens between minibatches).
    /// The rename is not followed by a directory fsync (.NET cannot open a directory); the file contents are durable.
    /// </summary>
    public StateSnapshotInfo Snapshot(string path)
    {
        path = Path.GetFullPath(path);
        EnterExclusive();
        try
        {
            return WriteSnapshotLocked(path);
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>Memory and disk held now.</summary>
    public StateStoreMemory Memory()
    {
        // Locks (object header + fields ~ 40 B each), their array, the options and the lock gate: fixed, not per particle.
        const long managed = StripeCount * (40 + 8) + 512;
        return new StateStoreMemory(managed, ParticleCount * IndexEntrySize, Interlocked.Read(ref _tail),
            Interlocked.Read(ref _liveBytes), Interlocked.Read(ref _garbageBytes));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _gate.EnterWriteLock();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _indexView.SafeMemoryMappedViewHandle.ReleasePointer();
            _indexView.Dispose();
            _indexMap.Dispose();
            _data.Dispose();
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    public override string ToString() => $"{Directory} ({RecordCount} of {ParticleCount} particles, {Interlocked.Read(ref _tail)} log bytes)";

    private static ParticleStateStoreOptions Validate(ParticleStateStoreOptions? options)
    {
        options ??= new ParticleStateStoreOptions();
        if (!(options.CompactionGarbageFraction > 0 && options.CompactionGarbageFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.CompactionGarbageFraction, "compaction garbage fraction must lie in (0, 1)");
        ArgumentOutOfRangeException.ThrowIfNegative(options.CompactionMinimumBytes);
        return options;
    }

    private static SafeFileHandle OpenData(string path, FileMode mode) =>
        File.OpenHandle(path, mode, FileAccess.ReadWrite, FileShare.Read, FileOptions.RandomAccess);

    private static byte[] LogHeader()
    {
        var header = new byte[HeaderSize];
        LogMagic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), HeaderSize);
        return header;
    }

    private void CheckParticle(long particle)
    {
        if ((ulong)particle >= (ulong)ParticleCount)
            throw new ArgumentOutOfRangeException(nameof(particle), particle, $"particles are 0..{ParticleCount - 1}");
    }

    private Lock Stripe(long particle) => _stripes[(int)(particle & (StripeCount - 1))];

    private IndexEntry Entry(long particle)
    {
        CheckParticle(particle);
        EnterShared();
        try
        {
            lock (Stripe(particle)) return ReadEntry(particle);
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    private void EnterShared()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _gate.EnterReadLock();
        if (_disposed)
        {
            _gate.ExitReadLock();
            throw new ObjectDisposedException(ToString());
        }
    }

    private void EnterExclusive()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _gate.EnterWriteLock();
        if (_disposed)
        {
            _gate.ExitWriteLock();
            throw new ObjectDisposedException(ToString());
        }
    }

    private IndexEntry ReadEntry(long particle) => IndexEntry.Read(new ReadOnlySpan<byte>(_index + particle * IndexEntrySize, IndexEntrySize));

    private void WriteEntry(long particle, IndexEntry entry) => entry.Write(new Span<byte>(_index + particle * IndexEntrySize, IndexEntrySize));

    /// <summary>Reads header and payload of a record into <paramref name="dst"/> (exactly its size) and verifies it.</summary>
    private void ReadRecord(long particle, IndexEntry e, Span<byte> dst)
    {
        long offset = e.Offset;
        int done = 0;
        while (done < dst.Length)
        {
            int n = RandomAccess.Read(_data, dst[done..], offset + done);
            if (n == 0) Fail("working log ends inside a record", DataPath, offset + done, particle, $"{e.RecordSize} bytes from {offset}", $"{done}");
            done += n;
        }
        VerifyRecord(dst, particle, e, DataPath);
    }

    private bool CompactionDue()
    {
        long log = Interlocked.Read(ref _tail) - HeaderSize;
        return log >= _options.CompactionMinimumBytes && Interlocked.Read(ref _garbageBytes) > _options.CompactionGarbageFraction * log;
    }

    private void CompactIfDue()
    {
        EnterExclusive();
        try
        {
            if (CompactionDue()) CompactLocked();
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>
    /// Copies live records in particle order to a new log, then swaps it in and rewrites the offsets. The index is
    /// touched only once the new log is complete, so a failure while copying (a corrupted record, a full disk)
    /// leaves the store as it was.
    /// </summary>
    private void CompactLocked()
    {
        string next = DataPath + ".compact";
        long end = HeaderSize;
        bool ok = false;
        try
        {
            using (var output = new FileStream(next, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                output.Write(LogHeader());
                end += CopyLiveRecords(output).Bytes;
            }
            _data.Dispose();
            File.Move(next, DataPath, overwrite: true);
            ok = true;
        }
        finally
        {
            if (!ok) File.Delete(next);
            if (_data.IsClosed) _data = OpenData(DataPath, FileMode.Open);
        }
        long offset = HeaderSize;
        for (long p = 0; p < ParticleCount; p++)
        {
            var e = ReadEntry(p);
            if (!e.IsLive) continue;
            WriteEntry(p, e with { Offset = offset });
            offset += e.RecordSize;
        }
        _tail = end;
        _garbageBytes = 0;
        _liveBytes = end - HeaderSize;
    }

    private StateSnapshotInfo WriteSnapshotLocked(string path)
    {
        string dir = Path.GetDirectoryName(path) ?? ".";
        System.IO.Directory.CreateDirectory(dir);
        foreach (string stale in System.IO.Directory.EnumerateFiles(dir, Path.GetFileName(path) + TempInfix + "*"))
            File.Delete(stale);
        string temp = path + TempInfix + Guid.NewGuid().ToString("N")[..12];
        bool renamed = false;
        try
        {
            StateSnapshotInfo info;
            using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                info = WriteSnapshotLocked(output, path);
                output.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            renamed = true;
            return info;
        }
        finally
        {
            if (!renamed) File.Delete(temp);
        }
    }

    /// <summary>
    /// Writes a snapshot of every particle's current record into <paramref name="output"/> (seekable, positioned at 0;
    /// the header is written last), for callers that own the file and its atomicity, such as a checkpoint. The stream
    /// is flushed but not forced to disk. Puts and gets wait while it runs.
    /// </summary>
    /// <param name="name">what <see cref="StateSnapshotInfo.Path"/> will say</param>
    public StateSnapshotInfo Snapshot(Stream output, string name)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!output.CanSeek || !output.CanWrite || output.Position != 0)
            throw new ArgumentException("the snapshot stream must be writable, seekable and at position 0", nameof(output));
        EnterExclusive();
        try
        {
            return WriteSnapshotLocked(output, name);
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>Copies every live record, verified, in particle order to <paramref name="output"/> (the store held exclusively).</summary>
    private (long Bytes, long Records) CopyLiveRecords(Stream output)
    {
        long bytes = 0, records = 0;
        byte[] buffer = new byte[4096];
        for (long p = 0; p < ParticleCount; p++)
        {
            var e = ReadEntry(p);
            if (!e.IsLive) continue;
            int size = (int)e.RecordSize;
            if (buffer.Length < size) buffer = new byte[Math.Max(size, 2 * buffer.Length)];
            ReadRecord(p, e, buffer.AsSpan(0, size));
            output.Write(buffer, 0, size);
            bytes += size;
            records++;
        }
        return (bytes, records);
    }

    private StateSnapshotInfo WriteSnapshotLocked(Stream output, string name)
    {
        output.Write(new byte[HeaderSize]);
        var (bytes, records) = CopyLiveRecords(output);
        long end = HeaderSize + bytes;

        long indexOffset = end;
        long recordBytes = end - HeaderSize;
        ulong hash = StateHash64.Begin(0);
        byte[] chunk = new byte[IndexChunkEntries * IndexEntrySize];
        long next = HeaderSize;
        for (long first = 0; first < ParticleCount; first += IndexChunkEntries)
        {
            int n = (int)Math.Min(IndexChunkEntries, ParticleCount - first);
            for (int i = 0; i < n; i++)
            {
                var e = ReadEntry(first + i);
                var stored = e.IsLive ? e with { Offset = next } : default;
                stored.Write(chunk.AsSpan(i * IndexEntrySize, IndexEntrySize));
                if (e.IsLive) next += e.RecordSize;
            }
            var entries = chunk.AsSpan(0, n * IndexEntrySize);
            hash = StateHash64.AppendWords(hash, entries);
            output.Write(entries);
        }
        long indexBytes = ParticleCount * IndexEntrySize;
        long fileLength = indexOffset + indexBytes + FooterSize;

        Span<byte> footer = stackalloc byte[FooterSize];
        FooterMagic.CopyTo(footer);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[8..], StateHash64.Finish(hash, indexBytes));
        BinaryPrimitives.WriteInt64LittleEndian(footer[16..], records);
        BinaryPrimitives.WriteInt64LittleEndian(footer[24..], fileLength);
        output.Write(footer);

        Span<byte> header = stackalloc byte[HeaderSize];
        StateSnapshotReader.EncodeHeader(header, ParticleCount, records, recordBytes, indexOffset, fileLength);
        output.Flush();
        output.Position = 0;
        output.Write(header);
        output.Position = fileLength;
        output.Flush();
        return new StateSnapshotInfo(name, ParticleCount, records, recordBytes, fileLength);
    }
}
