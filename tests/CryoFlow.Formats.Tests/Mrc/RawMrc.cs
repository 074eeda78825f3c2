using System.Buffers.Binary;
using System.Text;

namespace CryoFlow.Formats.Tests.Mrc;

/// <summary>
/// Test-only MRC encoder, written independently of the product writer: builds raw MRC bytes in any mode and
/// either byte order, with every header field settable, so the reader can be checked against bytes it did
/// not produce. Offsets are spelled out here again on purpose (the MRC2014 table, ECOSYSTEM.md 1.1).
/// </summary>
internal sealed class RawMrc
{
    public const int HeaderSize = 1024;

    public RawMrc(int nx, int ny, int nz, int mode, bool bigEndian = false)
    {
        BigEndian = bigEndian;
        Header = new byte[HeaderSize];
        Int(0, nx);
        Int(4, ny);
        Int(8, nz);
        Int(12, mode);
        Int(28, nx);
        Int(32, ny);
        Int(36, 1);
        Float(40, nx * 1.5f);
        Float(44, ny * 1.5f);
        Float(48, 1.5f);
        Float(52, 90);
        Float(56, 90);
        Float(60, 90);
        Int(64, 1);
        Int(68, 2);
        Int(72, 3);
        Int(108, 20140);
        Encoding.ASCII.GetBytes("MAP ").CopyTo(Header, 208);
        if (bigEndian) { Header[212] = 0x11; Header[213] = 0x11; }
        else { Header[212] = 0x44; Header[213] = 0x44; }
        Int(220, 1);
        Encoding.ASCII.GetBytes("test encoder").CopyTo(Header, 224);
    }

    public bool BigEndian { get; }

    public byte[] Header { get; }

    public byte[] ExtendedHeader { get; set; } = [];

    public byte[] Data { get; set; } = [];

    public RawMrc Int(int offset, int value)
    {
        if (BigEndian) BinaryPrimitives.WriteInt32BigEndian(Header.AsSpan(offset), value);
        else BinaryPrimitives.WriteInt32LittleEndian(Header.AsSpan(offset), value);
        return this;
    }

    public RawMrc Float(int offset, float value)
    {
        if (BigEndian) BinaryPrimitives.WriteSingleBigEndian(Header.AsSpan(offset), value);
        else BinaryPrimitives.WriteSingleLittleEndian(Header.AsSpan(offset), value);
        return this;
    }

    public RawMrc Bytes(int offset, params byte[] bytes)
    {
        bytes.CopyTo(Header, offset);
        return this;
    }

    /// <summary>Sets the extended header and NSYMBT together.</summary>
    public RawMrc WithExtendedHeader(byte[] ext, string exttyp)
    {
        ExtendedHeader = ext;
        Int(92, ext.Length);
        Encoding.ASCII.GetBytes(exttyp).CopyTo(Header, 104);
        return this;
    }

    /// <summary>Encodes values in a mode; each value must be exactly representable there.</summary>
    public RawMrc WithValues(int mode, float[] values)
    {
        var ms = new MemoryStream();
        switch (mode)
        {
            case 0:
                foreach (float v in values) ms.WriteByte(unchecked((byte)(sbyte)v));
                break;
            case 1:
                foreach (float v in values) Put(ms, 2, BigEndian ? BitSwap16((ushort)(short)v) : (ushort)(short)v);
                break;
            case 6:
                foreach (float v in values) Put(ms, 2, BigEndian ? BitSwap16((ushort)v) : (ushort)v);
                break;
            case 12:
                foreach (float v in values)
                {
                    ushort bits = BitConverter.HalfToUInt16Bits((Half)v);
                    Put(ms, 2, BigEndian ? BitSwap16(bits) : bits);
                }
                break;
            case 2:
                foreach (float v in values)
                {
                    uint bits = BitConverter.SingleToUInt32Bits(v);
                    Put(ms, 4, BigEndian ? BinaryPrimitives.ReverseEndianness(bits) : bits);
                }
                break;
            case 101:
                for (int i = 0; i < values.Length; i += 2)
                {
                    int lo = (int)values[i], hi = i + 1 < values.Length ? (int)values[i + 1] : 0;
                    ms.WriteByte((byte)(lo | (hi << 4)));
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(mode));
        }
        Data = ms.ToArray();
        return this;
    }

    public byte[] ToBytes()
    {
        var all = new byte[Header.Length + ExtendedHeader.Length + Data.Length];
        Header.CopyTo(all, 0);
        ExtendedHeader.CopyTo(all, Header.Length);
        Data.CopyTo(all, Header.Length + ExtendedHeader.Length);
        return all;
    }

    public string WriteTo(string path)
    {
        File.WriteAllBytes(path, ToBytes());
        return path;
    }

    // Writes the low `size` bytes of `bits` in memory order as they are (already arranged for the target order).
    private static void Put(MemoryStream ms, int size, uint bits)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, bits);
        ms.Write(b[..size]);
    }

    private static ushort BitSwap16(ushort v) => (ushort)((v >> 8) | (v << 8));

    /// <summary>Values exactly representable in a mode, deterministic from a seed.</summary>
    public static float[] ExactValues(int mode, int count, int seed)
    {
        var rng = new Random(seed);
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            v[i] = mode switch
            {
                0 => rng.Next(-128, 128),
                1 => rng.Next(short.MinValue, short.MaxValue + 1),
                6 => rng.Next(0, ushort.MaxValue + 1),
                12 => (float)(Half)(float)((rng.NextDouble() - 0.5) * 2000),
                2 => (float)((rng.NextDouble() - 0.5) * 1e6),
                101 => rng.Next(0, 16),
                _ => throw new ArgumentOutOfRangeException(nameof(mode)),
            };
        }
        // Extremes of the range, where sign and byte-order mistakes show.
        if (count >= 2)
        {
            (v[0], v[1]) = mode switch
            {
                0 => (-128f, 127f),
                1 => (short.MinValue, short.MaxValue),
                6 => (0f, ushort.MaxValue),
                12 => (-65504f, 65504f),
                2 => (float.MinValue, float.Epsilon),
                101 => (0f, 15f),
                _ => (v[0], v[1]),
            };
        }
        return v;
    }
}
