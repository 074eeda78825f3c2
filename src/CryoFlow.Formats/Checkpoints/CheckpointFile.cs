using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.State;

namespace CryoFlow.Formats.Checkpoints;

/// <summary>
/// The byte layout of a checkpoint file: named sections of bytes, each with its own checksum, between a versioned
/// header and a footer that seals the section table. Integers, floats and doubles are little-endian.
/// <code>
/// header (24):  0 "CFCKPT01"  8 uint32 format version (1)  12 uint32 0  16 uint64 StateHash64 of bytes 0..15
/// section:      0 uint16 name length n  2 name (UTF-8, n bytes)  2+n int64 payload length L
///               10+n uint64 StateHash64 of the payload, seeded with the section's position  18+n payload (L bytes)
/// footer (32):  0 "CFCKEND1"  8 uint64 StateHash64 of the section table (each section's name, length and hash)
///              16 int64 section count  24 int64 file length
/// </code>
/// A file is accepted only whole: a missing or different footer (a torn write), a wrong length, a section whose
/// payload fails its checksum or a table that fails the footer's are all refused with the file and byte offset.
/// What the sections mean is the writer's business (the reconstruct pipeline stores its state in them).
/// </summary>
public static class CheckpointFile
{
    public const uint FormatVersion = 1;
    internal const int HeaderSize = 24;
    internal const int FooterSize = 32;

    internal static ReadOnlySpan<byte> Magic => "CFCKPT01"u8;
    internal static ReadOnlySpan<byte> FooterMagic => "CFCKEND1"u8;

    /// <summary>Reads and verifies a whole checkpoint file.</summary>
    /// <exception cref="CheckpointFormatException">truncated, corrupted, or not a checkpoint</exception>
    public static CheckpointContents Read(string path) => CheckpointContents.Parse(File.ReadAllBytes(path), path);
}

/// <summary>Writes the sections of a checkpoint file into a stream (see <see cref="CheckpointFile"/>).</summary>
public sealed class CheckpointWriter
{
    private readonly Stream _output;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly MemoryStream _table = new();
    private long _length;
    private bool _complete;

    /// <param name="output">a new, empty stream; the writer does not flush or close it</param>
    public CheckpointWriter(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        Span<byte> header = stackalloc byte[CheckpointFile.HeaderSize];
        header.Clear();
        CheckpointFile.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], CheckpointFile.FormatVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], StateHash64.Compute(header[..16]));
        Emit(header);
    }

    /// <summary>Appends a section.</summary>
    /// <exception cref="ArgumentException">an empty or repeated name, or one longer than 255 UTF-8 bytes</exception>
    public void Add(string name, ReadOnlySpan<byte> payload)
    {
        ObjectDisposedException.ThrowIf(_complete, this);
        ArgumentException.ThrowIfNullOrEmpty(name);
        byte[] utf8 = Encoding.UTF8.GetBytes(name);
        if (utf8.Length > 255) throw new ArgumentException($"section name '{name}' is longer than 255 bytes", nameof(name));
        if (!_names.Add(name)) throw new ArgumentException($"section '{name}' was already written", nameof(name));
        ulong hash = StateHash64.Compute(payload, (ulong)(_names.Count - 1));
        byte[] head = new byte[18 + utf8.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(head, (ushort)utf8.Length);
        utf8.CopyTo(head, 2);
        BinaryPrimitives.WriteInt64LittleEndian(head.AsSpan(2 + utf8.Length), payload.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(head.AsSpan(10 + utf8.Length), hash);
        _table.Write(head);
        Emit(head);
        Emit(payload);
    }

    /// <summary>Appends a section of floats (little-endian).</summary>
    public void AddFloats(string name, ReadOnlySpan<float> values) => Add(name, LittleEndian.Bytes(values));

    /// <summary>Appends a section of doubles (little-endian).</summary>
    public void AddDoubles(string name, ReadOnlySpan<double> values) => Add(name, LittleEndian.Bytes(values));

    /// <summary>Appends a section of UTF-8 text (e.g. JSON).</summary>
    public void AddText(string name, string text) => Add(name, Encoding.UTF8.GetBytes(text));

    /// <summary>Writes the footer; the file is valid only after this.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_complete, this);
        Span<byte> footer = stackalloc byte[CheckpointFile.FooterSize];
        CheckpointFile.FooterMagic.CopyTo(footer);
        BinaryPrimitives.WriteUInt64LittleEndian(footer[8..], StateHash64.Compute(_table.GetBuffer().AsSpan(0, (int)_table.Length)));
        BinaryPrimitives.WriteInt64LittleEndian(footer[16..], _names.Count);
        BinaryPrimitives.WriteInt64LittleEndian(footer[24..], _length + CheckpointFile.FooterSize);
        Emit(footer);
        _complete = true;
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        _output.Write(bytes);
        _length += bytes.Length;
    }
}

/// <summary>The verified sections of a checkpoint file.</summary>
public sealed class CheckpointContents
{
    private readonly byte[] _bytes;
    private readonly Dictionary<string, (int Offset, int Length)> _sections;

    private CheckpointContents(byte[] bytes, string path, Dictionary<string, (int, int)> sections, List<string> names)
    {
        _bytes = bytes;
        Path = path;
        _sections = sections;
        Names = names;
    }

    /// <summary>The file the contents came from (for messages).</summary>
    public string Path { get; }

    /// <summary>Section names in file order.</summary>
    public IReadOnlyList<string> Names { get; }

    public bool Contains(string name) => _sections.ContainsKey(name);

    /// <summary>The payload of a section.</summary>
    /// <exception cref="CheckpointFormatException">no such section</exception>
    public ReadOnlySpan<byte> Get(string name)
    {
        if (!_sections.TryGetValue(name, out var s))
            throw new CheckpointFormatException("the checkpoint lacks a section", new DataLocation(FilePath: Path, Field: name));
        return _bytes.AsSpan(s.Offset, s.Length);
    }

    /// <summary>A section of floats; <paramref name="expectedLength"/> (when given) is checked.</summary>
    public float[] Floats(string name, int? expectedLength = null) => Values<float>(name, expectedLength);

    /// <summary>A section of doubles; <paramref name="expectedLength"/> (when given) is checked.</summary>
    public double[] Doubles(string name, int? expectedLength = null) => Values<double>(name, expectedLength);

    /// <summary>A section of UTF-8 text.</summary>
    public string Text(string name) => Encoding.UTF8.GetString(Get(name));

    private T[] Values<T>(string name, int? expectedLength) where T : unmanaged
    {
        var bytes = Get(name);
        int size = Marshal.SizeOf<T>();
        if (bytes.Length % size != 0 || (expectedLength is int n && bytes.Length != (long)n * size))
            throw new CheckpointFormatException("a section has the wrong length", new DataLocation(FilePath: Path, Field: name,
                Expected: expectedLength is int e ? $"{e} values of {size} bytes" : $"a multiple of {size} bytes", Found: $"{bytes.Length} bytes"));
        return LittleEndian.Values<T>(bytes);
    }

    internal static CheckpointContents Parse(byte[] bytes, string path)
    {
        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        void Fail(string problem, long offset, string? expected = null, string? found = null) =>
            throw new CheckpointFormatException(problem, new DataLocation(FilePath: path, ByteOffset: offset, Expected: expected, Found: found));

        int headerSize = CheckpointFile.HeaderSize, footerSize = CheckpointFile.FooterSize;
        if (bytes.Length < headerSize + footerSize)
            Fail("file too short for a checkpoint", bytes.Length, $">= {headerSize + footerSize} bytes", $"{bytes.Length}");
        var span = bytes.AsSpan();
        if (!span[..8].SequenceEqual(CheckpointFile.Magic))
            Fail("not a CryoFlow checkpoint (magic bytes)", 0, "CFCKPT01", Encoding.ASCII.GetString(span[..8]));
        if (BinaryPrimitives.ReadUInt64LittleEndian(span[16..]) != StateHash64.Compute(span[..16]))
            Fail("header checksum mismatch", 16);
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(span[8..]);
        if (version != CheckpointFile.FormatVersion)
            Fail("unsupported checkpoint format version", 8, $"{CheckpointFile.FormatVersion}", $"{version}");
        int footer = bytes.Length - footerSize;
        if (!span[footer..(footer + 8)].SequenceEqual(CheckpointFile.FooterMagic))
            Fail("no footer: the file is truncated or was not completed", footer);
        long declared = BinaryPrimitives.ReadInt64LittleEndian(span[(footer + 24)..]);
        if (declared != bytes.Length) Fail("file length differs from the footer's", footer + 24, $"{declared}", $"{bytes.Length}");

        var sections = new Dictionary<string, (int, int)>(StringComparer.Ordinal);
        var names = new List<string>();
        var table = new MemoryStream();
        int at = headerSize;
        while (at < footer)
        {
            if (footer - at < 18) Fail("section header runs into the footer", at);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(span[at..]);
            if (footer - at < 18 + nameLength) Fail("section header runs into the footer", at);
            string name = Encoding.UTF8.GetString(span.Slice(at + 2, nameLength));
            long length = BinaryPrimitives.ReadInt64LittleEndian(span[(at + 2 + nameLength)..]);
            ulong hash = BinaryPrimitives.ReadUInt64LittleEndian(span[(at + 10 + nameLength)..]);
            int payload = at + 18 + nameLength;
            if (length < 0 || length > footer - payload) Fail($"section '{name}' runs past the end", at + 2 + nameLength, $"<= {footer - payload} bytes", $"{length}");
            if (StateHash64.Compute(span.Slice(payload, (int)length), (ulong)names.Count) != hash)
                Fail($"section '{name}' fails its checksum", payload);
            if (!sections.TryAdd(name, (payload, (int)length))) Fail($"section '{name}' appears twice", at);
            names.Add(name);
            table.Write(span[at..payload]);
            at = payload + (int)length;
        }
        if (BinaryPrimitives.ReadUInt64LittleEndian(span[(footer + 8)..]) != StateHash64.Compute(table.GetBuffer().AsSpan(0, (int)table.Length)))
            Fail("section table fails the footer's checksum", footer + 8);
        long count = BinaryPrimitives.ReadInt64LittleEndian(span[(footer + 16)..]);
        if (count != names.Count) Fail("section count differs from the footer's", footer + 16, $"{count}", $"{names.Count}");
        return new CheckpointContents(bytes, path, sections, names);
    }
}

/// <summary>A checkpoint that is truncated, corrupted, of another format or lacks what a resume needs.</summary>
public sealed class CheckpointFormatException(string problem, DataLocation where, Exception? inner = null)
    : CryoFlowDataException(problem, where, inner);

/// <summary>Numbers as little-endian bytes and back, whatever the machine.</summary>
internal static class LittleEndian
{
    public static ReadOnlySpan<byte> Bytes<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        if (BitConverter.IsLittleEndian) return MemoryMarshal.AsBytes(values);
        byte[] copy = MemoryMarshal.AsBytes(values).ToArray();
        Swap<T>(copy);
        return copy;
    }

    public static T[] Values<T>(ReadOnlySpan<byte> bytes) where T : unmanaged
    {
        var values = MemoryMarshal.Cast<byte, T>(bytes).ToArray();
        if (!BitConverter.IsLittleEndian) Swap<T>(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    private static void Swap<T>(Span<byte> bytes) where T : unmanaged
    {
        int size = Marshal.SizeOf<T>();
        for (int i = 0; i < bytes.Length; i += size) bytes.Slice(i, size).Reverse();
    }
}
