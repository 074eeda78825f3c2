using System.Buffers.Binary;
using CryoFlow.Formats.Checkpoints;
using CryoFlow.Formats.Errors;
using CryoFlow.Numerics.Geometry;
using Microsoft.Win32.SafeHandles;

namespace CryoFlow.Formats.State;

/// <summary>
/// Each particle's most probable pose and its probability, on disk: a working file of fixed 56-byte records (has-pose
/// flag, rot, tilt, psi in degrees, origin x, y in Å, probability; doubles, little-endian), written by position as
/// particles are marginalised and read back by position (no memory map, so nothing of it counts as resident).
/// A checkpoint takes a <see cref="Snapshot"/>: a header ("CFPOSES1", version, fields, count, checksum of the
/// records) and the records. The store can grow (a live run's pool).
/// Thread-safe: sets of different particles from any number of threads, reads from any thread.
/// </summary>
public sealed class PoseStore : IDisposable
{
    /// <summary>Doubles per record.</summary>
    public const int Fields = 7;

    private const int RecordSize = Fields * 8;
    private const int HeaderSize = 32;
    private const int FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "CFPOSES1"u8;

    /// <summary>Records read at once by <see cref="TryGet"/> (sequential reads, as when writing particles.star, hit it).</summary>
    private const int PageRecords = 512;

    private readonly SafeFileHandle _file;
    private readonly Lock _lock = new();
    private readonly byte[] _page = new byte[PageRecords * RecordSize];
    private int _pageStart = -1, _pageCount;

    private PoseStore(string path, SafeFileHandle file, int count)
    {
        Path = path;
        _file = file;
        Count = count;
    }

    /// <summary>The working file.</summary>
    public string Path { get; }

    /// <summary>Particles 0..Count-1.</summary>
    public int Count { get; private set; }

    /// <summary>A store of <paramref name="count"/> particles without poses; a working file already there is replaced.</summary>
    public static PoseStore Create(string path, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
        RandomAccess.SetLength(file, (long)count * RecordSize); // zeros: no pose
        return new PoseStore(path, file, count);
    }

    /// <summary>A store with the records of a <see cref="Snapshot"/> (verified first), as the working file <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointFormatException">the snapshot is damaged or of another number of particles</exception>
    public static PoseStore Open(string snapshot, string path, int count)
    {
        VerifySnapshot(snapshot, count);
        var store = Create(path, count);
        try
        {
            using var input = new FileStream(snapshot, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            input.Position = HeaderSize;
            var buffer = new byte[PageRecords * RecordSize];
            long at = 0;
            int n;
            while ((n = input.Read(buffer)) > 0)
            {
                RandomAccess.Write(store._file, buffer.AsSpan(0, n), at);
                at += n;
            }
            return store;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>Checks a snapshot's header, length and checksum.</summary>
    /// <param name="count">the particles it must hold, or null for any</param>
    /// <exception cref="CheckpointFormatException">it is damaged, truncated or of another number of particles</exception>
    public static void VerifySnapshot(string path, int? count = null)
    {
        using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var header = new byte[HeaderSize];
        if (input.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false) < HeaderSize || !header.AsSpan(0, 8).SequenceEqual(Magic))
            throw Bad(path, "not a pose snapshot (magic CFPOSES1)", 0);
        int version = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8)), fields = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12));
        long records = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(16));
        if (version != FormatVersion || fields != Fields) throw Bad(path, $"format version {version} with {fields} fields; this build reads version {FormatVersion} with {Fields}", 8);
        if (count is int c && records != c) throw Bad(path, $"poses of {records} particles, the run has {c}", 16);
        if (input.Length != HeaderSize + records * RecordSize) throw Bad(path, $"{input.Length} bytes, {HeaderSize + records * RecordSize} expected for {records} particles", input.Length);
        ulong state = StateHash64.Begin((ulong)records);
        var buffer = new byte[PageRecords * RecordSize];
        int n;
        while ((n = input.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false)) > 0) state = StateHash64.AppendWords(state, buffer.AsSpan(0, n));
        if (StateHash64.Finish(state, records * RecordSize) != BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(24)))
            throw Bad(path, "the poses fail their checksum", HeaderSize);
    }

    private static CheckpointFormatException Bad(string path, string problem, long offset) =>
        new(problem, new DataLocation(FilePath: path, ByteOffset: offset));

    /// <summary>Records a particle's most probable pose.</summary>
    public void Set(int particle, Pose pose, double probability)
    {
        CheckIndex(particle);
        Span<byte> r = stackalloc byte[RecordSize];
        Encode(pose, probability, r);
        RandomAccess.Write(_file, r, (long)particle * RecordSize);
        lock (_lock)
            if (particle >= _pageStart && particle < _pageStart + _pageCount) r.CopyTo(_page.AsSpan((particle - _pageStart) * RecordSize));
    }

    /// <summary>A particle's most probable pose so far; false when it has none yet.</summary>
    public bool TryGet(int particle, out Pose pose, out double probability)
    {
        CheckIndex(particle);
        lock (_lock)
        {
            if (particle < _pageStart || particle >= _pageStart + _pageCount)
            {
                _pageStart = particle;
                _pageCount = Math.Min(PageRecords, Count - particle);
                ReadExactly(_page.AsSpan(0, _pageCount * RecordSize), (long)particle * RecordSize);
            }
            var r = _page.AsSpan((particle - _pageStart) * RecordSize, RecordSize);
            return Decode(r, out pose, out probability);
        }
    }

    /// <summary>Adds particles without poses up to <paramref name="count"/>.</summary>
    public void Grow(int count)
    {
        if (count < Count) throw new ArgumentOutOfRangeException(nameof(count), $"the store holds {Count} particles; it does not shrink");
        lock (_lock)
        {
            RandomAccess.SetLength(_file, (long)count * RecordSize);
            Count = count;
            _pageStart = -1;
            _pageCount = 0;
        }
    }

    /// <summary>Writes every record, with a header, to <paramref name="output"/>; no set may run meanwhile.</summary>
    public void Snapshot(Stream output)
    {
        var header = new byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), Fields);
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), Count);
        // the checksum goes before the records: one pass to hash, one to copy (both from the page cache)
        ulong state = StateHash64.Begin((ulong)Count);
        var buffer = new byte[PageRecords * RecordSize];
        long total = (long)Count * RecordSize;
        for (long at = 0; at < total; at += buffer.Length)
        {
            var chunk = buffer.AsSpan(0, (int)Math.Min(buffer.Length, total - at));
            ReadExactly(chunk, at);
            state = StateHash64.AppendWords(state, chunk);
        }
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), StateHash64.Finish(state, total));
        output.Write(header);
        for (long at = 0; at < total; at += buffer.Length)
        {
            var chunk = buffer.AsSpan(0, (int)Math.Min(buffer.Length, total - at));
            ReadExactly(chunk, at);
            output.Write(chunk);
        }
    }

    /// <summary>Sets every particle from <paramref name="values"/>: <see cref="Fields"/> doubles per particle as older checkpoints stored them.</summary>
    public void Import(ReadOnlySpan<double> values)
    {
        if (values.Length != Count * Fields) throw new ArgumentException($"{values.Length} values for {Count} particles of {Fields}", nameof(values));
        for (int i = 0; i < Count; i++)
        {
            var v = values.Slice(i * Fields, Fields);
            if (v[0] != 0) Set(i, new Pose(new EulerAngles(v[1], v[2], v[3]), v[4], v[5]), v[6]);
        }
    }

    private static void Encode(Pose p, double probability, Span<byte> r)
    {
        ReadOnlySpan<double> v = [1, p.Angles.RotDeg, p.Angles.TiltDeg, p.Angles.PsiDeg, p.OriginXAngst, p.OriginYAngst, probability];
        for (int f = 0; f < Fields; f++) BinaryPrimitives.WriteDoubleLittleEndian(r[(8 * f)..], v[f]);
    }

    private static bool Decode(ReadOnlySpan<byte> r, out Pose pose, out double probability)
    {
        Span<double> v = stackalloc double[Fields];
        for (int f = 0; f < Fields; f++) v[f] = BinaryPrimitives.ReadDoubleLittleEndian(r[(8 * f)..]);
        if (v[0] == 0)
        {
            (pose, probability) = (default, 0);
            return false;
        }
        pose = new Pose(new EulerAngles(v[1], v[2], v[3]), v[4], v[5]);
        probability = v[6];
        return true;
    }

    private void ReadExactly(Span<byte> destination, long offset)
    {
        for (int done = 0; done < destination.Length;)
        {
            int n = RandomAccess.Read(_file, destination[done..], offset + done);
            if (n == 0) throw new IOException($"{Path} ends at byte {offset + done}, before the record asked for");
            done += n;
        }
    }

    private void CheckIndex(int particle)
    {
        if ((uint)particle >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(particle), $"particle {particle} of {Count}");
    }

    public void Dispose() => _file.Dispose();
}
