using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;

namespace CryoFlow.Formats.Particles;

/// <summary>
/// One particle as every stage after reading sees it, in RELION's units and conventions.
/// </summary>
/// <param name="Image">stack path as written and 0-based index</param>
/// <param name="Optics">its optics group</param>
/// <param name="PixelSizeAngst">Å/px: a per-particle value if the row has one, else the optics group's; null when the file gives none</param>
/// <param name="Ctf">null when the file has no rlnDefocusU</param>
/// <param name="Pose">Euler angles (degrees) and origin shifts in Å; null when the file has no angles or origins</param>
/// <param name="RandomSubset">rlnRandomSubset (1 or 2), null when absent</param>
/// <param name="SourceRow">row of the source table it came from, for write-back</param>
public readonly record struct Particle(
    ParticleRef Image,
    OpticsGroup Optics,
    double? PixelSizeAngst,
    CtfParameters? Ctf,
    Pose? Pose,
    int? RandomSubset,
    int SourceRow);
