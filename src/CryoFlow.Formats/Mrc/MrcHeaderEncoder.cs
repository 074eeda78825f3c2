using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using static CryoFlow.Formats.Mrc.MrcHeaderParser;

namespace CryoFlow.Formats.Mrc;

/// <summary>What the writer puts in a header; everything else is fixed by <see cref="MrcHeaderEncoder"/>.</summary>
internal readonly record struct MrcHeaderFields(
    int Nx, int Ny, int Nz, MrcMode Mode, int Mz, Vector3 CellA, int Ispg, Vector3 Origin, MrcStatistics Stats, string Label);

/// <summary>Writes an MRC2014 main header, little-endian, field by field.</summary>
internal static class MrcHeaderEncoder
{
    public static void Encode(in MrcHeaderFields h, Span<byte> header)
    {
        if (header.Length < MrcHeader.MainHeaderSize) throw new ArgumentException("the main header is 1024 bytes", nameof(header));
        header = header[..MrcHeader.MainHeaderSize];
        header.Clear();
        I32(header, OffNx, h.Nx);
        I32(header, OffNy, h.Ny);
        I32(header, OffNz, h.Nz);
        I32(header, OffMode, (int)h.Mode);
        // NXSTART, NYSTART, NZSTART stay 0.
        I32(header, OffMx, h.Nx);
        I32(header, OffMy, h.Ny);
        I32(header, OffMz, h.Mz);
        Vec3(header, OffCellA, h.CellA);
        Vec3(header, OffCellB, new Vector3(90f, 90f, 90f));
        I32(header, OffMapC, 1);
        I32(header, OffMapR, 2);
        I32(header, OffMapS, 3);
        F32(header, OffDMin, (float)h.Stats.Min);
        F32(header, OffDMax, (float)h.Stats.Max);
        F32(header, OffDMean, (float)h.Stats.Mean);
        I32(header, OffIspg, h.Ispg);
        // NSYMBT 0, EXTRA and EXTTYP zero.
        I32(header, OffNVersion, 20140);
        Vec3(header, OffOrigin, h.Origin);
        "MAP "u8.CopyTo(header[OffMapId..]);
        ReadOnlySpan<byte> littleEndianStamp = [0x44, 0x44, 0x00, 0x00];
        littleEndianStamp.CopyTo(header[OffMachSt..]);
        F32(header, OffRms, (float)h.Stats.Rms);
        I32(header, OffNLabl, 1);
        var label = header.Slice(OffLabels, LabelLength);
        label.Fill((byte)' ');
        Encoding.ASCII.GetBytes(AsciiLabel(h.Label), label);
    }

    /// <summary>Printable ASCII, at most 80 characters: what mrcfile accepts in a label.</summary>
    internal static string AsciiLabel(string text)
    {
        var sb = new StringBuilder(LabelLength);
        foreach (char c in text)
        {
            if (sb.Length == LabelLength) break;
            sb.Append(c is >= ' ' and <= '~' ? c : '?');
        }
        return sb.ToString();
    }

    private static void I32(Span<byte> b, int offset, int v) => BinaryPrimitives.WriteInt32LittleEndian(b[offset..], v);

    private static void F32(Span<byte> b, int offset, float v) => BinaryPrimitives.WriteSingleLittleEndian(b[offset..], v);

    private static void Vec3(Span<byte> b, int offset, Vector3 v)
    {
        F32(b, offset, v.X);
        F32(b, offset + 4, v.Y);
        F32(b, offset + 8, v.Z);
    }
}
