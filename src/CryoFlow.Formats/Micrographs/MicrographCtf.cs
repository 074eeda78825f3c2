using CryoFlow.Numerics.Ctf;

namespace CryoFlow.Formats.Micrographs;

/// <summary>The CTF fitted to one micrograph (CTFFIND4 through RELION or directly), in RELION's units.</summary>
/// <param name="SourcePath">the file it was read from</param>
/// <param name="MicrographKey">the micrograph's name as the file gives it (rlnMicrographName), or a per-micrograph
/// file's own name without extension (CTFFIND4's mic001.txt)</param>
/// <param name="KeyIsFileName">true when <paramref name="MicrographKey"/> is the file's own name</param>
/// <param name="Ctf">defocus U/V (Å), angle (degrees), voltage (kV), Cs (mm), amplitude contrast, phase shift (degrees)</param>
/// <param name="PixelSize">the micrograph's Å/px as the file gives it (rlnMicrographPixelSize, CTFFIND's "Pixel size"); null if none</param>
/// <param name="FigureOfMerit">rlnCtfFigureOfMerit, CTFFIND's cross correlation</param>
/// <param name="MaxResolution">rlnCtfMaxResolution, CTFFIND's fit spacing, Å; null when none or infinite</param>
/// <param name="Line">1-based line of the row, for messages</param>
/// <param name="AlternativeKey">another name of the micrograph (CTFFIND's "Input file"), tried after the first</param>
public sealed record MicrographCtf(
    string SourcePath,
    string MicrographKey,
    bool KeyIsFileName,
    CtfParameters Ctf,
    double? PixelSize,
    double? FigureOfMerit,
    double? MaxResolution,
    long? Line,
    string? AlternativeKey = null)
{
    public override string ToString() => $"{SourcePath}{(Line is long l ? $" line {l}" : "")} ('{MicrographKey}')";
}
