using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.Mrc;

/// <summary>
/// How the caller reads a file. The caller decides, not the header: an <c>N@file</c> reference is a stack
/// whatever ISPG and MZ say (RELION writes stacks with MZ = NZ; real stacks with ISPG 1 exist).
/// </summary>
public enum MrcLayout
{
    /// <summary>NZ images of NX x NY.</summary>
    Stack,

    /// <summary>One volume of NX x NY x NZ voxels.</summary>
    Volume,
}

/// <summary>Warnings for a header whose stack/volume marking disagrees with how the caller reads it.</summary>
internal static class MrcLayoutCheck
{
    public static void Warn(MrcHeader h, MrcLayout layout, MrcWarningSink sink)
    {
        if (layout == MrcLayout.Stack)
        {
            if (h.Ispg != 0)
                sink.Add($"space group marks a volume; read as a stack of {h.Nz} images as the caller asked", "ISPG",
                    MrcHeaderParser.OffIspg, "0 for an image stack", MrcHeaderParser.Str(h.Ispg));
            if (h.Mz != 1 && h.Nz > 1)
                sink.Add($"MZ is not 1 (RELION writes MZ = NZ for stacks); read as a stack of {h.Nz} images as the caller asked",
                    "MZ", MrcHeaderParser.OffMz, "1 for an image stack", MrcHeaderParser.Str(h.Mz));
        }
        else if (h.Nz > 1)
        {
            if (h.Ispg == 0 && h.Mz == 1)
                sink.Add($"ISPG 0 and MZ 1 mark an image stack; read as one volume of {h.Nz} sections as the caller asked",
                    "ISPG", MrcHeaderParser.OffIspg, "1 for a volume", MrcHeaderParser.Str(h.Ispg));
            else if (h.Ispg is >= 401 and <= 630)
                sink.Add($"space group marks a stack of volumes; read as one volume of {h.Nz} sections as the caller asked",
                    "ISPG", MrcHeaderParser.OffIspg, "1 for a volume", MrcHeaderParser.Str(h.Ispg));
        }
    }

    /// <summary>
    /// Largest section read in one piece: its bytes in the file and as float32 must both fit one buffer
    /// (2 GiB; a 23170 x 23170 float32 image). Larger sections are refused rather than read in parts.
    /// </summary>
    public const long MaxSectionVoxels = int.MaxValue / sizeof(float);

    /// <summary>Refuses a header whose sections cannot be held in one buffer.</summary>
    public static void CheckSectionFitsSpan(MrcHeader h, string path)
    {
        if (h.VoxelsPerSection > MaxSectionVoxels)
            throw new MrcFormatException("one section is larger than CryoFlow reads in one piece (2 GiB as float32)",
                new DataLocation(path, "NX, NY", MrcHeaderParser.OffNx, Expected: $"NX*NY <= {MaxSectionVoxels}",
                    Found: $"{h.Nx} x {h.Ny}"));
    }
}
