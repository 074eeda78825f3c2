using Serilog;

namespace CryoFlow.Formats.Particles;

/// <summary>How particle metadata is read and where its stacks are looked for.</summary>
public sealed record ParticleReadOptions
{
    /// <summary><c>--datadir</c>: the last place relative stack paths are looked for.</summary>
    public string? DataDir { get; init; }

    /// <summary>The working directory for relative stack paths; default the process's at read time.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Pixel size (Å) to use when the file gives none (e.g. <c>--apix</c>); null = leave unknown.</summary>
    public double? PixelSizeAngst { get; init; }

    /// <summary>cryoSPARC: the field prefix of the poses to read ("alignments3D", or e.g. "alignments_class_0").</summary>
    public string CryoSparcAlignments { get; init; } = "alignments3D";

    /// <summary>Warnings; default <c>Serilog.Log.Logger</c>.</summary>
    public ILogger? Logger { get; init; }
}
