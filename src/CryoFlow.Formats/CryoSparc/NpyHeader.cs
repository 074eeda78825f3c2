using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.CryoSparc;

/// <summary>
/// The header of a NumPy <c>.npy</c> file holding a 1-D record array, as cryoSPARC writes its
/// <c>.cs</c> files (numpy/lib/format.py): magic <c>\x93NUMPY</c>, version 1.0 (u16 header length),
/// 2.0 or 3.0 (u32; 3.0 UTF-8), then a Python dict literal with <c>descr</c>, <c>fortran_order</c> and
/// <c>shape</c>. <c>descr</c> must be a list of (name, typestr[, shape]) tuples of bool, integer, float,
/// <c>|S</c>/<c>U</c> string or <c>V</c> padding fields; both byte orders are read. Records are packed
/// (the record size is the sum of the field sizes, as <c>np.save</c> of such a dtype writes them).
/// Refused with a <see cref="CryoSparcFormatException"/>: cryoSPARC's compressed <c>\x95CSDAT</c>
/// container, Fortran order, object (pickled) fields, nested records, arrays that are not 1-D, and
/// files shorter than their header declares.
/// </summary>
public sealed class NpyHeader
{
    internal static ReadOnlySpan<byte> NpyMagic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    internal static ReadOnlySpan<byte> CsdatMagic => [0x95, (byte)'C', (byte)'S', (byte)'D', (byte)'A', (byte)'T'];

    private readonly Dictionary<string, NpyField> _byName;

    private NpyHeader(int major, int minor, long dataOffset, long count, int recordSize, List<NpyField> fields)
    {
        MajorVersion = major;
        MinorVersion = minor;
        DataOffset = dataOffset;
        Count = count;
        RecordSize = recordSize;
        Fields = fields;
        _byName = fields.Where(f => f.Name.Length > 0).ToDictionary(f => f.Name, StringComparer.Ordinal);
    }

    public int MajorVersion { get; }

    public int MinorVersion { get; }

    /// <summary>Byte offset of the first record.</summary>
    public long DataOffset { get; }

    /// <summary>Number of records.</summary>
    public long Count { get; }

    /// <summary>Bytes per record.</summary>
    public int RecordSize { get; }

    public IReadOnlyList<NpyField> Fields { get; }

    public NpyField? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Reads and checks the header; the stream is left at the first record.</summary>
    /// <param name="path">for messages</param>
    /// <param name="fileLength">the stream's length, to refuse truncated files before reading records</param>
    public static NpyHeader Read(Stream stream, string? path, long fileLength)
    {
        Span<byte> pre = stackalloc byte[12];
        int got = ReadUpTo(stream, pre[..10]);
        if (got >= 6 && pre[..6].SequenceEqual(CsdatMagic))
            throw new CryoSparcFormatException(
                "this is cryoSPARC's compressed dataset container (magic \\x95CSDAT), which CryoFlow does not read yet; "
                + "save it in NumPy format (cryosparc-tools: Dataset.save(path, format=NUMPY_FORMAT)) or export the job",
                new DataLocation(FilePath: path, ByteOffset: 0, Expected: "\\x93NUMPY", Found: "\\x95CSDAT"));
        if (got < 6 || !pre[..6].SequenceEqual(NpyMagic))
            throw new CryoSparcFormatException("not a NumPy .npy / cryoSPARC .cs file",
                new DataLocation(FilePath: path, ByteOffset: 0, Expected: "magic \\x93NUMPY", Found: Hex(pre[..got])));
        if (got < 10)
            throw new CryoSparcFormatException("file ends inside the NumPy preamble", new DataLocation(FilePath: path, ByteOffset: got, Expected: "at least 10 bytes", Found: $"{got} bytes"));
        int major = pre[6], minor = pre[7];
        long headerLength, headerStart;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(pre[8..10]);
                headerStart = 10;
                break;
            case 2 or 3:
                if (ReadUpTo(stream, pre[10..12]) < 2)
                    throw new CryoSparcFormatException("file ends inside the NumPy preamble", new DataLocation(FilePath: path, ByteOffset: 10, Expected: "12 bytes"));
                headerLength = BinaryPrimitives.ReadUInt32LittleEndian(pre[8..12]);
                headerStart = 12;
                break;
            default:
                throw new CryoSparcFormatException($"unsupported .npy format version {major}.{minor}",
                    new DataLocation(FilePath: path, ByteOffset: 6, Field: "version", Expected: "1.0, 2.0 or 3.0", Found: $"{major}.{minor}"));
        }
        if (headerStart + headerLength > fileLength)
            throw new CryoSparcFormatException("file is shorter than its NumPy header length says",
                new DataLocation(FilePath: path, ByteOffset: headerStart - 4, Field: "header length", Expected: $"{headerStart + headerLength} bytes or more", Found: $"{fileLength} bytes"));
        var raw = new byte[headerLength];
        stream.ReadExactly(raw);
        string text = major >= 3 ? Encoding.UTF8.GetString(raw) : Encoding.Latin1.GetString(raw);
        var dict = PyLiteral.Parse(text.TrimEnd(), path, headerStart) as Dictionary<string, object?>
            ?? throw Bad("the NumPy header is not a dictionary", "descr", path, headerStart, text);

        if (!dict.TryGetValue("descr", out object? descr)) throw Bad("the NumPy header has no 'descr'", "descr", path, headerStart, text);
        if (!dict.TryGetValue("shape", out object? shapeValue)) throw Bad("the NumPy header has no 'shape'", "shape", path, headerStart, text);
        if (dict.TryGetValue("fortran_order", out object? fo) && fo is true)
            throw new CryoSparcFormatException("Fortran-ordered arrays are not supported (cryoSPARC writes C order)",
                new DataLocation(FilePath: path, ByteOffset: headerStart, Field: "fortran_order", Expected: "False", Found: "True"));
        if (shapeValue is not object?[] shape || shape.Length != 1 || shape[0] is not long count || count < 0)
            throw new CryoSparcFormatException("a cryoSPARC dataset is a 1-D record array",
                new DataLocation(FilePath: path, ByteOffset: headerStart, Field: "shape", Expected: "(N,)", Found: Describe(shapeValue)));
        if (descr is string single)
            throw new CryoSparcFormatException("not a record array: the file holds plain values, not named fields",
                new DataLocation(FilePath: path, ByteOffset: headerStart, Field: "descr", Expected: "a list of (name, type) fields", Found: $"'{single}'"));
        if (descr is not List<object?> list || list.Count == 0)
            throw Bad("'descr' is not a list of fields", "descr", path, headerStart, text);

        var fields = new List<NpyField>(list.Count);
        int offset = 0;
        foreach (object? item in list)
        {
            var field = ParseField(item, offset, path, headerStart);
            if (field.Name.Length > 0 && fields.Exists(f => f.Name == field.Name))
                throw new CryoSparcFormatException($"field '{field.Name}' appears twice", new DataLocation(FilePath: path, ByteOffset: headerStart, Field: field.Name));
            fields.Add(field);
            offset = checked(offset + field.Size);
        }

        long dataOffset = headerStart + headerLength;
        long needed;
        try { needed = checked(dataOffset + count * offset); }
        catch (OverflowException)
        {
            throw new CryoSparcFormatException("the header declares more data than any file can hold",
                new DataLocation(FilePath: path, Field: "shape", Found: $"{count} records of {offset} bytes"));
        }
        if (needed > fileLength)
            throw new CryoSparcFormatException($"file is truncated: the header declares {count} records of {offset} bytes",
                new DataLocation(FilePath: path, ByteOffset: fileLength, Expected: $"{needed} bytes", Found: $"{fileLength} bytes"));
        if (offset == 0 && count > 0)
            throw new CryoSparcFormatException("records of zero bytes", new DataLocation(FilePath: path, Field: "descr"));
        return new NpyHeader(major, minor, dataOffset, count, offset, fields);
    }

    private static NpyField ParseField(object? item, int offset, string? path, long at)
    {
        if (item is not object?[] t || t.Length is < 2 or > 3)
            throw new CryoSparcFormatException("a field in 'descr' is not a (name, type[, shape]) tuple",
                new DataLocation(FilePath: path, ByteOffset: at, Field: "descr", Found: Describe(item)));
        if (t[0] is not string name)
            throw new CryoSparcFormatException("field names with titles are not supported",
                new DataLocation(FilePath: path, ByteOffset: at, Field: "descr", Found: Describe(t[0])));
        if (t[1] is not string typestr)
            throw new CryoSparcFormatException($"field '{name}' is a nested record, which cryoSPARC files do not use",
                new DataLocation(FilePath: path, ByteOffset: at, Field: name, Expected: "a type string such as '<f4'", Found: Describe(t[1])));
        int[] shape = [];
        if (t.Length == 3)
        {
            shape = t[2] switch
            {
                long n => [checked((int)n)],
                object?[] dims when dims.All(d => d is long) => dims.Select(d => checked((int)(long)d!)).ToArray(),
                _ => throw new CryoSparcFormatException($"field '{name}' has a bad sub-array shape",
                    new DataLocation(FilePath: path, ByteOffset: at, Field: name, Expected: "a tuple of integers", Found: Describe(t[2]))),
            };
            if (shape.Any(d => d < 0))
                throw new CryoSparcFormatException($"field '{name}' has a negative dimension", new DataLocation(FilePath: path, ByteOffset: at, Field: name, Found: Describe(t[2])));
        }
        var (kind, size, big) = ParseType(typestr, name, path, at);
        return new NpyField(name, kind, size, big, shape, offset, typestr);
    }

    private static (NpyKind Kind, int Size, bool BigEndian) ParseType(string s, string name, string? path, long at)
    {
        CryoSparcFormatException Unsupported(string why) => new($"field '{name}' has type '{s}': {why}",
            new DataLocation(FilePath: path, ByteOffset: at, Field: name, Expected: "b1, i1-8, u1-8, f2/f4/f8, S<n>, U<n> or V<n>", Found: $"'{s}'"));

        if (s.Length < 2) throw Unsupported("not a NumPy type string");
        int i = 0;
        bool big = false;
        if (s[0] is '<' or '>' or '|' or '=')
        {
            big = s[0] == '>'; // '=' (native) never appears in saved files; read it as little-endian like '<'
            i = 1;
        }
        char kind = s[i];
        if (!int.TryParse(s.AsSpan(i + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            if (kind == 'O') throw Unsupported("object fields hold pickled Python objects, which are never read");
            throw Unsupported("not a NumPy type string");
        }
        return kind switch
        {
            'b' when n == 1 => (NpyKind.Bool, 1, false),
            'i' when n is 1 or 2 or 4 or 8 => (NpyKind.Int, n, big),
            'u' when n is 1 or 2 or 4 or 8 => (NpyKind.UInt, n, big),
            'f' when n is 2 or 4 or 8 => (NpyKind.Float, n, big),
            'S' or 'a' when n > 0 => (NpyKind.Bytes, n, false),
            'U' when n > 0 => (NpyKind.Unicode, checked(4 * n), big),
            'V' when n > 0 => (NpyKind.Void, n, false),
            'O' => throw Unsupported("object fields hold pickled Python objects, which are never read"),
            'c' => throw Unsupported("complex numbers are not used in cryoSPARC files"),
            'M' or 'm' => throw Unsupported("date/time fields are not used in cryoSPARC files"),
            _ => throw Unsupported("unknown or unsupported type"),
        };
    }

    private static CryoSparcFormatException Bad(string problem, string field, string? path, long at, string text) =>
        new(problem, new DataLocation(FilePath: path, ByteOffset: at, Field: field, Found: "'" + (text.Length > 120 ? text[..120] + "..." : text).TrimEnd() + "'"));

    private static string Describe(object? v) => v switch
    {
        null => "None",
        string s => $"'{s}'",
        object?[] t => "(" + string.Join(", ", t.Select(Describe)) + (t.Length == 1 ? ",)" : ")"),
        List<object?> l => "[" + string.Join(", ", l.Select(Describe)) + "]",
        Dictionary<string, object?> => "{...}",
        bool b => b ? "True" : "False",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "?",
    };

    private static string Hex(ReadOnlySpan<byte> b) => b.Length == 0 ? "an empty file" : Convert.ToHexString(b);

    private static int ReadUpTo(Stream s, Span<byte> buf)
    {
        int total = 0;
        while (total < buf.Length)
        {
            int n = s.Read(buf[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
