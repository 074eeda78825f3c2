using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace CryoFlow.Formats.Tests.CryoSparc;

/// <summary>
/// Assembles .npy record-array bytes by hand (independent of the reader): magic, version, header
/// length, a dict literal padded to a 64-byte boundary, then packed records.
/// </summary>
internal sealed class NpyTestWriter
{
    public sealed record Field(string Name, string Type, params int[] Shape)
    {
        public int Count => Shape.Aggregate(1, (a, b) => a * b);

        public int ItemSize => Type[1] == 'U' ? 4 * int.Parse(Type[2..], CultureInfo.InvariantCulture) : int.Parse(Type[2..], CultureInfo.InvariantCulture);

        public string Descr => Shape.Length == 0
            ? $"('{Name}', '{Type}')"
            : $"('{Name}', '{Type}', ({string.Join(", ", Shape)}{(Shape.Length == 1 ? "," : "")}))";
    }

    private readonly List<Field> _fields = [];
    private readonly List<object[]> _records = [];

    public NpyTestWriter(params Field[] fields) => _fields.AddRange(fields);

    /// <summary>One value per field: string for S/U, double or long for numbers, double[] for sub-arrays.</summary>
    public NpyTestWriter Add(params object[] values)
    {
        if (values.Length != _fields.Count) throw new ArgumentException("one value per field");
        _records.Add(values);
        return this;
    }

    public string HeaderDict(bool fortran = false, string? shape = null) =>
        "{'descr': [" + string.Join(", ", _fields.Select(f => f.Descr)) + "], 'fortran_order': " + (fortran ? "True" : "False")
        + ", 'shape': " + (shape ?? $"({_records.Count},)") + ", }";

    public byte[] ToBytes(int major = 1, string? header = null)
    {
        header ??= HeaderDict();
        var enc = major >= 3 ? Encoding.UTF8 : Encoding.Latin1;
        int pre = major == 1 ? 10 : 12;
        int raw = enc.GetByteCount(header) + 1;
        int padded = (pre + raw + 63) / 64 * 64 - pre;
        string text = header + new string(' ', padded - raw) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, .. "NUMPY"u8, (byte)major, 0]);
        Span<byte> len = stackalloc byte[4];
        if (major == 1) { BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)padded); ms.Write(len[..2]); }
        else { BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)padded); ms.Write(len); }
        ms.Write(enc.GetBytes(text));
        foreach (var rec in _records)
            for (int i = 0; i < _fields.Count; i++) WriteValue(ms, _fields[i], rec[i]);
        return ms.ToArray();
    }

    private static void WriteValue(Stream s, Field f, object v)
    {
        char order = f.Type[0], kind = f.Type[1];
        bool big = order == '>';
        int size = f.ItemSize;
        if (kind == 'S')
        {
            var b = new byte[size];
            Encoding.UTF8.GetBytes((string)v).CopyTo(b, 0);
            s.Write(b);
            return;
        }
        double[] values = v is double[] arr ? arr : [Convert.ToDouble(v, CultureInfo.InvariantCulture)];
        if (values.Length != f.Count) throw new ArgumentException($"{f.Name} needs {f.Count} values");
        Span<byte> buf = stackalloc byte[8];
        foreach (double x in values)
        {
            var b = buf[..size];
            switch (kind, size)
            {
                case ('f', 4): if (big) BinaryPrimitives.WriteSingleBigEndian(b, (float)x); else BinaryPrimitives.WriteSingleLittleEndian(b, (float)x); break;
                case ('f', 8): if (big) BinaryPrimitives.WriteDoubleBigEndian(b, x); else BinaryPrimitives.WriteDoubleLittleEndian(b, x); break;
                case ('u', 4): if (big) BinaryPrimitives.WriteUInt32BigEndian(b, (uint)x); else BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)x); break;
                case ('u', 8): if (big) BinaryPrimitives.WriteUInt64BigEndian(b, (ulong)x); else BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)x); break;
                case ('i', 4): if (big) BinaryPrimitives.WriteInt32BigEndian(b, (int)x); else BinaryPrimitives.WriteInt32LittleEndian(b, (int)x); break;
                default: throw new ArgumentException($"test writer does not do {f.Type}");
            }
            s.Write(b);
        }
    }
}
