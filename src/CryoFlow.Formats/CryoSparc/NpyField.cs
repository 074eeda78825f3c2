using System.Buffers.Binary;
using System.Text;

namespace CryoFlow.Formats.CryoSparc;

/// <summary>The kind of a NumPy field (the letter of its typestr).</summary>
public enum NpyKind
{
    /// <summary>b: bool, 1 byte</summary>
    Bool,
    /// <summary>i: signed integer</summary>
    Int,
    /// <summary>u: unsigned integer</summary>
    UInt,
    /// <summary>f: IEEE float (2, 4 or 8 bytes)</summary>
    Float,
    /// <summary>S: fixed-width byte string, NUL-padded</summary>
    Bytes,
    /// <summary>U: fixed-width UTF-32 string, NUL-padded</summary>
    Unicode,
    /// <summary>V: raw bytes (padding); never read as a value</summary>
    Void,
}

/// <summary>
/// One field of a NumPy record: name, scalar type, sub-array shape (empty for a scalar) and byte offset
/// in the record (packed: the sum of the sizes of the fields before it).
/// </summary>
public sealed record NpyField(string Name, NpyKind Kind, int ItemSize, bool BigEndian, IReadOnlyList<int> Shape, int Offset, string TypeString)
{
    /// <summary>Elements in the sub-array (1 for a scalar).</summary>
    public int ElementCount { get; } = Shape.Aggregate(1, (a, b) => checked(a * b));

    /// <summary>Bytes the field takes in a record.</summary>
    public int Size => checked(ItemSize * ElementCount);

    public bool IsNumber => Kind is NpyKind.Bool or NpyKind.Int or NpyKind.UInt or NpyKind.Float;

    public bool IsText => Kind is NpyKind.Bytes or NpyKind.Unicode;

    /// <summary>Element <paramref name="element"/> of a numeric field as a double.</summary>
    public double ReadDouble(ReadOnlySpan<byte> record, int element = 0)
    {
        var b = Element(record, element);
        return Kind switch
        {
            NpyKind.Float => ItemSize switch
            {
                2 => (double)(BigEndian ? BinaryPrimitives.ReadHalfBigEndian(b) : BinaryPrimitives.ReadHalfLittleEndian(b)),
                4 => BigEndian ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b),
                _ => BigEndian ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b),
            },
            NpyKind.UInt => ReadUInt64(b),
            NpyKind.Int or NpyKind.Bool => ReadInt64(b),
            _ => throw new InvalidOperationException($"field {Name} ({TypeString}) is not a number"),
        };
    }

    /// <summary>Element <paramref name="element"/> of an integer field (a float field is refused).</summary>
    public long ReadInteger(ReadOnlySpan<byte> record, int element = 0)
    {
        var b = Element(record, element);
        return Kind switch
        {
            NpyKind.UInt => checked((long)ReadUInt64(b)),
            NpyKind.Int or NpyKind.Bool => ReadInt64(b),
            _ => throw new InvalidOperationException($"field {Name} ({TypeString}) is not an integer"),
        };
    }

    /// <summary>A string field, trailing NULs removed; byte strings are decoded as UTF-8.</summary>
    public string ReadString(ReadOnlySpan<byte> record)
    {
        var b = record.Slice(Offset, Size);
        if (Kind == NpyKind.Bytes)
        {
            int end = b.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? b : b[..end]);
        }
        if (Kind != NpyKind.Unicode) throw new InvalidOperationException($"field {Name} ({TypeString}) is not a string");
        var enc = new UTF32Encoding(bigEndian: BigEndian, byteOrderMark: false);
        return enc.GetString(b).TrimEnd('\0');
    }

    /// <summary>The raw bytes of a string field up to its first NUL (byte strings only).</summary>
    internal ReadOnlySpan<byte> RawBytes(ReadOnlySpan<byte> record)
    {
        var b = record.Slice(Offset, Size);
        int end = b.IndexOf((byte)0);
        return end < 0 ? b : b[..end];
    }

    private ReadOnlySpan<byte> Element(ReadOnlySpan<byte> record, int element)
    {
        if ((uint)element >= (uint)ElementCount) throw new ArgumentOutOfRangeException(nameof(element), $"field {Name} has {ElementCount} elements");
        return record.Slice(Offset + element * ItemSize, ItemSize);
    }

    private long ReadInt64(ReadOnlySpan<byte> b) => ItemSize switch
    {
        1 => (sbyte)b[0],
        2 => BigEndian ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b),
        4 => BigEndian ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b),
        _ => BigEndian ? BinaryPrimitives.ReadInt64BigEndian(b) : BinaryPrimitives.ReadInt64LittleEndian(b),
    };

    private ulong ReadUInt64(ReadOnlySpan<byte> b) => ItemSize switch
    {
        1 => b[0],
        2 => BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b),
        4 => BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b),
        _ => BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(b) : BinaryPrimitives.ReadUInt64LittleEndian(b),
    };
}
