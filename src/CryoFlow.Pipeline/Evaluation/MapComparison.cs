using System.Globalization;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Numerics.Evaluation;
using Serilog;

namespace CryoFlow.Pipeline.Evaluation;

/// <summary>A map compared with a reference: the FSC, after the alignment when one was asked for.</summary>
/// <param name="Fsc">FSC of the reference and the (aligned) map</param>
/// <param name="Alignment">the motion that put the map on the reference; null without alignment</param>
/// <param name="Reference">the reference map, D^3 voxels [z][y][x]</param>
/// <param name="Map">the map as compared (aligned when <paramref name="Alignment"/> is set), D^3 voxels [z][y][x]</param>
/// <param name="BoxSize">D</param>
/// <param name="VoxelSize">Å per voxel</param>
public sealed record MapComparisonResult(FscCurve Fsc, MapAlignmentResult? Alignment, float[] Reference, float[] Map, int BoxSize, double VoxelSize);

/// <summary>
/// `cryoflow fsc` and the run report's FSC: two maps read and checked against each other (cubic, same box, same
/// voxel size), the second optionally aligned to the first (<see cref="MapAlignment"/>: rotation, shift, hand),
/// then the FSC.
/// </summary>
public static class MapComparison
{
    /// <param name="referencePath">map A, the reference</param>
    /// <param name="mapPath">map B, the one that is moved</param>
    /// <param name="align">align B to A before the FSC</param>
    /// <param name="voxelSize">Å per voxel, overriding the headers (and required when neither gives one)</param>
    /// <param name="log">warnings about the files</param>
    public static MapComparisonResult Compare(string referencePath, string mapPath, bool align, double? voxelSize = null, ILogger? log = null)
    {
        using var ra = MrcReader.OpenVolume(referencePath, log ?? Serilog.Core.Logger.None);
        using var rb = MrcReader.OpenVolume(mapPath, log ?? Serilog.Core.Logger.None);
        var (ha, hb) = (ra.Header, rb.Header);
        if (ha.Nx != ha.Ny || ha.Ny != ha.Nz)
            throw new MrcFormatException("the map must be cubic", new DataLocation(FilePath: referencePath, Field: "NX, NY, NZ", Found: $"{ha.Nx} x {ha.Ny} x {ha.Nz}"));
        if (hb.Nx != ha.Nx || hb.Ny != ha.Ny || hb.Nz != ha.Nz)
            throw new MrcFormatException("the maps have different boxes", new DataLocation(FilePath: mapPath, Field: "NX, NY, NZ", Expected: $"{ha.Nx} x {ha.Ny} x {ha.Nz}", Found: $"{hb.Nx} x {hb.Ny} x {hb.Nz}"));
        double voxel = voxelSize ?? ha.VoxelSizeX ?? hb.VoxelSizeX
            ?? throw new MrcFormatException("neither header gives a voxel size; give --apix", new DataLocation(FilePath: referencePath, Field: "CELLA/MX"));
        if (ha.VoxelSizeX is double va && hb.VoxelSizeX is double vb && Math.Abs(va - vb) > 1e-3 * va && voxelSize is null)
            throw new MrcFormatException("the maps have different voxel sizes", new DataLocation(FilePath: mapPath, Field: "CELLA/MX", Expected: va.ToString("G6", CultureInfo.InvariantCulture), Found: vb.ToString("G6", CultureInfo.InvariantCulture)));
        float[] a = ra.ReadVolume(), b = rb.ReadVolume();
        MapAlignmentResult? alignment = null;
        if (align)
        {
            if (ha.Nx < 8)
                throw new MrcFormatException("alignment needs a box of at least 8 voxels", new DataLocation(FilePath: referencePath, Field: "NX", Found: ha.Nx.ToString(CultureInfo.InvariantCulture)));
            if (a.Min() == a.Max())
                throw new MrcFormatException("the reference map is constant: there is nothing to align to", new DataLocation(FilePath: referencePath, Field: "data"));
            alignment = MapAlignment.Align(a, b, ha.Nx, voxel);
            b = alignment.Aligned;
        }
        return new MapComparisonResult(FourierShellCorrelation.Compute(a, b, ha.Nx, voxel), alignment, a, b, ha.Nx, voxel);
    }

    /// <summary>"original" or "mirrored".</summary>
    public static string HandName(MapHand hand) => hand == MapHand.Mirrored ? "mirrored" : "original";

    /// <summary>One line saying which hand of the moved map matched, how well, and the motion.</summary>
    /// <param name="r">the alignment</param>
    /// <param name="moved">what to call the moved map</param>
    /// <param name="reference">what to call the reference</param>
    public static string DescribeAlignment(MapAlignmentResult r, string moved = "B", string reference = "A")
    {
        var angles = r.Angles;
        var other = r.Hand == MapHand.Mirrored ? MapHand.Original : MapHand.Mirrored;
        return string.Create(CultureInfo.InvariantCulture,
            $"aligned {moved} to {reference}: the {HandName(r.Hand)} hand of {moved} matched ({(r.Whitened ? "whitened " : "")}correlation {r.Correlation:F4}; {HandName(other)} hand {r.OtherHandCorrelation:F4}); "
            + $"rot {Tidy(angles.RotDeg):F2}, tilt {Tidy(angles.TiltDeg):F2}, psi {Tidy(angles.PsiDeg):F2} deg; "
            + $"shift ({Tidy(r.ShiftAngst.X):F2}, {Tidy(r.ShiftAngst.Y):F2}, {Tidy(r.ShiftAngst.Z):F2}) Å");
    }

    /// <summary>Round-off below the printed precision shows as 0.00, not -0.00.</summary>
    private static double Tidy(double v) => Math.Abs(v) < 0.005 ? 0 : v;
}
