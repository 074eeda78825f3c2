namespace CryoFlow.Formats.Mrc;

/// <summary>The MRC2014 MODE word: how one voxel is stored (ECOSYSTEM.md 1.2).</summary>
public enum MrcMode
{
    /// <summary>Signed 8-bit integer (MRC2014; IMOD before 4.2.23 read it unsigned).</summary>
    Int8 = 0,
    Int16 = 1,
    Float32 = 2,
    /// <summary>Complex int16 pairs; refused (CryoFlow reads real-space images only).</summary>
    ComplexInt16 = 3,
    /// <summary>Complex float32 pairs; refused (CryoFlow reads real-space images only).</summary>
    ComplexFloat32 = 4,
    UInt16 = 6,
    /// <summary>IEEE 754 binary16 (RELION's and mrcfile's extension).</summary>
    Float16 = 12,
    /// <summary>Unsigned 4-bit, two voxels per byte, low nibble first; NX*NY must be even.</summary>
    Packed4Bit = 101,
}

/// <summary>Facts about modes that the reader, the writer and the decoder share.</summary>
public static class MrcModes
{
    /// <summary>Modes CryoFlow decodes to float32.</summary>
    public static bool IsReadable(MrcMode mode) => mode is MrcMode.Int8 or MrcMode.Int16 or MrcMode.Float32
        or MrcMode.UInt16 or MrcMode.Float16 or MrcMode.Packed4Bit;

    /// <summary>Modes defined by MRC2014 or its common extensions, readable or not.</summary>
    public static bool IsKnown(int mode) => mode is 0 or 1 or 2 or 3 or 4 or 6 or 12 or 101;

    /// <summary>Modes the writer produces.</summary>
    public static bool IsWritable(MrcMode mode) => mode is MrcMode.Float32 or MrcMode.Float16;

    /// <summary>
    /// Bytes taken by <paramref name="voxels"/> voxels in <paramref name="mode"/>. Mode 101 packs two voxels per
    /// byte; callers check evenness first. Throws <see cref="OverflowException"/> rather than wrapping.
    /// </summary>
    public static long ByteCount(MrcMode mode, long voxels) => mode switch
    {
        MrcMode.Int8 => voxels,
        MrcMode.Int16 or MrcMode.UInt16 or MrcMode.Float16 => checked(voxels * 2),
        MrcMode.Float32 or MrcMode.ComplexInt16 => checked(voxels * 4),
        MrcMode.ComplexFloat32 => checked(voxels * 8),
        MrcMode.Packed4Bit => (voxels + 1) / 2,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown MRC mode"),
    };

    /// <summary>Human name for messages, e.g. "2 (float32)".</summary>
    public static string Describe(int mode) => mode switch
    {
        0 => "0 (int8)",
        1 => "1 (int16)",
        2 => "2 (float32)",
        3 => "3 (complex int16)",
        4 => "4 (complex float32)",
        6 => "6 (uint16)",
        12 => "12 (float16)",
        101 => "101 (4-bit packed)",
        _ => mode.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
