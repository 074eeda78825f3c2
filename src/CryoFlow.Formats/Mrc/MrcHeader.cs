using System.Numerics;
using System.Text;

namespace CryoFlow.Formats.Mrc;

/// <summary>
/// One MRC2014 header as read from a file: every field of the 1024-byte main header in the byte order
/// that was decided on, the raw extended header, and what had to be tolerated to read it. Field names
/// follow the MRC2014 table (ECOSYSTEM.md 1.1). Sizes that depend on the fields are derived here and were
/// checked against the file length when the header was parsed.
/// </summary>
public sealed record MrcHeader
{
    /// <summary>Size of the main header in bytes; the extended header and then the data follow it.</summary>
    public const int MainHeaderSize = 1024;

    /// <summary>Columns (fastest-varying axis), rows, sections.</summary>
    public required int Nx { get; init; }
    public required int Ny { get; init; }
    public required int Nz { get; init; }

    public required MrcMode Mode { get; init; }

    public int NxStart { get; init; }
    public int NyStart { get; init; }
    public int NzStart { get; init; }

    /// <summary>Sampling of the unit cell along X, Y, Z (voxels per cell edge).</summary>
    public int Mx { get; init; }
    public int My { get; init; }
    public int Mz { get; init; }

    /// <summary>Cell edge lengths in Å (CELLA).</summary>
    public Vector3 CellA { get; init; }

    /// <summary>Cell angles in degrees (CELLB); 90, 90, 90 for EM data.</summary>
    public Vector3 CellB { get; init; }

    /// <summary>Which axis (1 = X, 2 = Y, 3 = Z) runs along columns, rows and sections.</summary>
    public int MapC { get; init; }
    public int MapR { get; init; }
    public int MapS { get; init; }

    /// <summary>Header statistics as stored; not checked against the data (RELION writes sentinels).</summary>
    public float DMin { get; init; }
    public float DMax { get; init; }
    public float DMean { get; init; }
    public float Rms { get; init; }

    /// <summary>Space group: 0 marks an image or image stack, 1..230 a volume, 401..630 a volume stack.</summary>
    public int Ispg { get; init; }

    /// <summary>Extended-header length in bytes; data starts at 1024 + NSYMBT.</summary>
    public int Nsymbt { get; init; }

    /// <summary>EXTTYP, the four raw bytes at offset 104 (e.g. "FEI1", "SERI", or zeros).</summary>
    public ReadOnlyMemory<byte> ExtType { get; init; } = new byte[4];

    public int NVersion { get; init; }

    /// <summary>ORIGIN x, y, z (bytes 196-207), as stored: Å for subvolumes in MRC2014.</summary>
    public Vector3 Origin { get; init; }

    /// <summary>The four raw bytes at offset 208; "MAP " in a conforming file.</summary>
    public ReadOnlyMemory<byte> MapId { get; init; } = new byte[4];

    /// <summary>MACHST, the four raw bytes at offset 212.</summary>
    public ReadOnlyMemory<byte> MachineStamp { get; init; } = new byte[4];

    /// <summary>NLABL as stored (may disagree with <see cref="Labels"/> in files that break the rules).</summary>
    public int NLabl { get; init; }

    /// <summary>The first min(NLABL, 10) labels, trailing blanks and NULs removed.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>The byte order the header and data were read in (decided from MACHST, then by sanity).</summary>
    public bool IsBigEndian { get; init; }

    /// <summary>The extended header, NSYMBT raw bytes, uninterpreted.</summary>
    public ReadOnlyMemory<byte> ExtendedHeader { get; init; } = ReadOnlyMemory<byte>.Empty;

    /// <summary>What was tolerated while parsing this header (also logged).</summary>
    public IReadOnlyList<MrcWarning> Warnings { get; init; } = [];

    /// <summary>EXTTYP as text, NULs removed (e.g. "FEI1" or "").</summary>
    public string ExtTypeText => Encoding.ASCII.GetString(ExtType.Span).TrimEnd('\0', ' ');

    /// <summary>Byte offset of the first voxel.</summary>
    public long DataOffset => MainHeaderSize + (long)Nsymbt;

    /// <summary>Voxels in one section (one image of a stack): NX * NY.</summary>
    public long VoxelsPerSection => (long)Nx * Ny;

    /// <summary>Bytes of one section in the file.</summary>
    public long BytesPerSection => MrcModes.ByteCount(Mode, VoxelsPerSection);

    /// <summary>Bytes of all NZ sections in the file.</summary>
    public long DataBytes => checked(BytesPerSection * Nz);

    /// <summary>File length the header declares: header, extended header and data.</summary>
    public long DeclaredFileLength => checked(DataOffset + DataBytes);

    /// <summary>Voxel size along X in Å (CELLA.x / MX); null when the cell or MX is zero, i.e. unknown.</summary>
    public double? VoxelSizeX => VoxelSize(CellA.X, Mx);

    /// <summary>Voxel size along Y in Å (CELLA.y / MY); null when unknown.</summary>
    public double? VoxelSizeY => VoxelSize(CellA.Y, My);

    /// <summary>Voxel size along Z in Å (CELLA.z / MZ); null when unknown. Meaningless for image stacks.</summary>
    public double? VoxelSizeZ => VoxelSize(CellA.Z, Mz);

    private static double? VoxelSize(float cell, int samples) =>
        samples > 0 && cell > 0 && float.IsFinite(cell) ? (double)cell / samples : null;
}
