using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text;
using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.Mrc;

/// <summary>
/// Turns the 1024-byte main header into an <see cref="MrcHeader"/>: decides the byte order, reads every
/// field, refuses what cannot be read and warns about what real files get wrong but can still be read.
/// </summary>
internal static class MrcHeaderParser
{
    // Byte offsets of the MRC2014 fields (ECOSYSTEM.md 1.1).
    internal const int OffNx = 0, OffNy = 4, OffNz = 8, OffMode = 12;
    internal const int OffNxStart = 16, OffNyStart = 20, OffNzStart = 24;
    internal const int OffMx = 28, OffMy = 32, OffMz = 36;
    internal const int OffCellA = 40, OffCellB = 52;
    internal const int OffMapC = 64, OffMapR = 68, OffMapS = 72;
    internal const int OffDMin = 76, OffDMax = 80, OffDMean = 84;
    internal const int OffIspg = 88, OffNsymbt = 92, OffExtType = 104, OffNVersion = 108;
    internal const int OffOrigin = 196, OffMapId = 208, OffMachSt = 212, OffRms = 216, OffNLabl = 220;
    internal const int OffLabels = 224, LabelLength = 80, MaxLabels = 10;

    /// <summary>
    /// Above this an image edge is implausible. Used only to pick the byte order when the machine stamp is
    /// wrong: a small dimension read in the wrong order becomes a multiple of 2^24.
    /// </summary>
    private const int MaxPlausibleEdge = 1 << 20;

    /// <param name="main">the first 1024 bytes of the file</param>
    /// <param name="path">file name for messages</param>
    /// <param name="fileLength">file length in bytes, or null for a stream of unknown length (size checks are
    /// then left to whoever reads the data)</param>
    /// <param name="sink">receives tolerated deviations</param>
    public static MrcHeader Parse(ReadOnlySpan<byte> main, string path, long? fileLength, MrcWarningSink sink)
    {
        if (main.Length < MrcHeader.MainHeaderSize)
            throw new ArgumentException("the main header is 1024 bytes", nameof(main));

        bool bigEndian = DecideByteOrder(main, path, sink);
        var f = new FieldReader(main, bigEndian);

        int nx = f.I32(OffNx), ny = f.I32(OffNy), nz = f.I32(OffNz), modeWord = f.I32(OffMode);
        int nsymbt = f.I32(OffNsymbt);

        CheckMode(modeWord, path);
        CheckPositive(nx, "NX", OffNx, path);
        CheckPositive(ny, "NY", OffNy, path);
        CheckPositive(nz, "NZ", OffNz, path);
        var mode = (MrcMode)modeWord;
        if (mode == MrcMode.Packed4Bit && ((long)nx * ny) % 2 != 0)
            Fail("4-bit packed data needs an even number of voxels per section", path, "NX*NY", OffNx,
                "NX*NY even", $"{nx} x {ny}");
        if (nsymbt < 0)
            Fail("extended-header length is negative", path, "NSYMBT", OffNsymbt, ">= 0", Str(nsymbt));

        long declared;
        try
        {
            long sectionBytes = MrcModes.ByteCount(mode, (long)nx * ny);
            declared = checked(MrcHeader.MainHeaderSize + (long)nsymbt + sectionBytes * nz);
        }
        catch (OverflowException e)
        {
            throw new MrcFormatException("NX*NY*NZ voxels overflow a 64-bit file size", new DataLocation(path, "NX, NY, NZ",
                OffNx, Expected: "a size below 2^63 bytes", Found: $"{nx} x {ny} x {nz} voxels of mode {MrcModes.Describe(modeWord)}"), e);
        }

        if (fileLength is long length)
        {
            if (length < MrcHeader.MainHeaderSize + (long)nsymbt)
                Fail("file is shorter than its extended header declares", path, "NSYMBT", OffNsymbt,
                    $"a file of at least {MrcHeader.MainHeaderSize + (long)nsymbt} bytes (1024 + NSYMBT {nsymbt})",
                    $"{length} bytes");
            if (length < declared)
                Fail("file is shorter than its header declares", path, "NX, NY, NZ, MODE", MrcHeader.MainHeaderSize + (long)nsymbt,
                    $"{declared} bytes ({nx} x {ny} x {nz} voxels of mode {MrcModes.Describe(modeWord)} after {MrcHeader.MainHeaderSize + (long)nsymbt} header bytes)",
                    $"{length} bytes");
            if (length > declared)
                sink.Add("file is longer than its header declares; the extra bytes are ignored", "NX, NY, NZ, MODE",
                    null, $"{declared} bytes", $"{length} bytes");
        }

        var header = new MrcHeader
        {
            Nx = nx,
            Ny = ny,
            Nz = nz,
            Mode = mode,
            NxStart = f.I32(OffNxStart),
            NyStart = f.I32(OffNyStart),
            NzStart = f.I32(OffNzStart),
            Mx = f.I32(OffMx),
            My = f.I32(OffMy),
            Mz = f.I32(OffMz),
            CellA = f.Vec3(OffCellA),
            CellB = f.Vec3(OffCellB),
            MapC = f.I32(OffMapC),
            MapR = f.I32(OffMapR),
            MapS = f.I32(OffMapS),
            DMin = f.F32(OffDMin),
            DMax = f.F32(OffDMax),
            DMean = f.F32(OffDMean),
            Ispg = f.I32(OffIspg),
            Nsymbt = nsymbt,
            ExtType = main.Slice(OffExtType, 4).ToArray(),
            NVersion = f.I32(OffNVersion),
            Origin = f.Vec3(OffOrigin),
            MapId = main.Slice(OffMapId, 4).ToArray(),
            MachineStamp = main.Slice(OffMachSt, 4).ToArray(),
            Rms = f.F32(OffRms),
            NLabl = f.I32(OffNLabl),
            IsBigEndian = bigEndian,
        };
        header = header with { Labels = ReadLabels(main, header.NLabl, sink) };
        WarnAboutTolerated(header, sink);
        return header with { Warnings = sink.Snapshot() };
    }

    /// <summary>
    /// Byte order from MACHST; if MODE or the dimensions are implausible in that order but plausible in the
    /// other, the other wins (files in the wild carry wrong stamps), with a warning.
    /// </summary>
    private static bool DecideByteOrder(ReadOnlySpan<byte> main, string path, MrcWarningSink sink)
    {
        byte s0 = main[OffMachSt], s1 = main[OffMachSt + 1];
        bool stampedBig;
        if (s0 == 0x44 && (s1 == 0x44 || s1 == 0x41)) stampedBig = false;
        else if (s0 == 0x11 && s1 == 0x11) stampedBig = true;
        else
        {
            stampedBig = false;
            sink.Add("unrecognised machine stamp; assuming little-endian unless MODE and NX say otherwise", "MACHST",
                OffMachSt, "44 44 00 00, 44 41 00 00 or 11 11 00 00", Hex(main.Slice(OffMachSt, 4)));
        }

        if (!IsPlausible(main, stampedBig) && IsPlausible(main, !stampedBig))
        {
            string chosen = stampedBig ? "little-endian" : "big-endian";
            sink.Add($"MODE and dimensions are implausible in the byte order of the machine stamp but plausible swapped; reading as {chosen}",
                "MACHST", OffMachSt, stampedBig ? "big-endian" : "little-endian", chosen);
            return !stampedBig;
        }
        return stampedBig;
    }

    private static bool IsPlausible(ReadOnlySpan<byte> main, bool bigEndian)
    {
        var f = new FieldReader(main, bigEndian);
        int nx = f.I32(OffNx), ny = f.I32(OffNy), nz = f.I32(OffNz);
        return MrcModes.IsKnown(f.I32(OffMode))
            && nx is > 0 and <= MaxPlausibleEdge
            && ny is > 0 and <= MaxPlausibleEdge
            && nz > 0;
    }

    private static void CheckMode(int mode, string path)
    {
        if (MrcModes.IsReadable((MrcMode)mode)) return;
        if (mode is 3 or 4)
            Fail($"mode {MrcModes.Describe(mode)} holds complex (Fourier-space) data; CryoFlow reads only real-space images",
                path, "MODE", OffMode, "0, 1, 2, 6, 12 or 101", MrcModes.Describe(mode));
        Fail("unknown data mode", path, "MODE", OffMode, "0, 1, 2, 6, 12 or 101", Str(mode));
    }

    private static void CheckPositive(int value, string field, int offset, string path)
    {
        if (value <= 0) Fail("dimension must be positive", path, field, offset, "> 0", Str(value));
    }

    private static IReadOnlyList<string> ReadLabels(ReadOnlySpan<byte> main, int nlabl, MrcWarningSink sink)
    {
        if (nlabl is < 0 or > MaxLabels)
        {
            sink.Add("label count out of range; labels ignored", "NLABL", OffNLabl, "0..10", Str(nlabl));
            return [];
        }
        var labels = new string[nlabl];
        for (int i = 0; i < nlabl; i++)
        {
            var raw = main.Slice(OffLabels + i * LabelLength, LabelLength);
            labels[i] = Encoding.Latin1.GetString(raw).TrimEnd('\0', ' ');
        }
        return labels;
    }

    private static void WarnAboutTolerated(MrcHeader h, MrcWarningSink sink)
    {
        var id = h.MapId.Span;
        if (!(id[0] == (byte)'M' && id[1] == (byte)'A' && id[2] == (byte)'P'))
            sink.Add("no \"MAP \" identifier", "MAP", OffMapId, "\"MAP \"", Hex(id));
        if (h.NVersion is not (20140 or 20141))
            sink.Add("not marked as MRC2014", "NVERSION", OffNVersion, "20140 or 20141", Str(h.NVersion));
        WarnSampling(h.Mx, "MX", OffMx, sink);
        WarnSampling(h.My, "MY", OffMy, sink);
        WarnSampling(h.Mz, "MZ", OffMz, sink);
        WarnCell(h.CellA.X, "CELLA.x", OffCellA, sink);
        WarnCell(h.CellA.Y, "CELLA.y", OffCellA + 4, sink);
        WarnCell(h.CellA.Z, "CELLA.z", OffCellA + 8, sink);
        if ((h.MapC, h.MapR, h.MapS) != (1, 2, 3))
            sink.Add("axis order is not columns = X, rows = Y, sections = Z; data are read in file order without permuting",
                "MAPC, MAPR, MAPS", OffMapC, "1, 2, 3", $"{h.MapC}, {h.MapR}, {h.MapS}");
    }

    private static void WarnSampling(int m, string field, int offset, MrcWarningSink sink)
    {
        if (m < 0) sink.Add("negative sampling; voxel size along this axis is unknown", field, offset, ">= 0", Str(m));
    }

    private static void WarnCell(float cell, string field, int offset, MrcWarningSink sink)
    {
        if (cell < 0 || !float.IsFinite(cell))
            sink.Add("cell length is negative or not finite; voxel size along this axis is unknown", field, offset,
                ">= 0 Å", cell.ToString(CultureInfo.InvariantCulture));
    }

    [DoesNotReturn]
    internal static void Fail(string problem, string path, string field, long offset, string expected, string found) =>
        throw new MrcFormatException(problem, new DataLocation(path, field, offset, Expected: expected, Found: found));

    internal static string Str(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Bytes as "44 44 00 00".</summary>
    internal static string Hex(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length * 3);
        foreach (byte b in bytes)
        {
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>Reads fixed-offset fields in one byte order.</summary>
    private readonly ref struct FieldReader(ReadOnlySpan<byte> bytes, bool bigEndian)
    {
        private readonly ReadOnlySpan<byte> _b = bytes;

        public int I32(int offset) => bigEndian
            ? BinaryPrimitives.ReadInt32BigEndian(_b[offset..])
            : BinaryPrimitives.ReadInt32LittleEndian(_b[offset..]);

        public float F32(int offset) => bigEndian
            ? BinaryPrimitives.ReadSingleBigEndian(_b[offset..])
            : BinaryPrimitives.ReadSingleLittleEndian(_b[offset..]);

        public Vector3 Vec3(int offset) => new(F32(offset), F32(offset + 4), F32(offset + 8));
    }
}
