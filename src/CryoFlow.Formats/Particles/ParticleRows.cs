using System.Globalization;
using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;
using L = CryoFlow.Formats.Particles.RelionLabels;

namespace CryoFlow.Formats.Particles;

/// <summary>
/// How a new RELION 3.1 particle table is laid out: the optics block, the particle columns and one
/// particle's row. Shared by <see cref="ParticleTableBuilder"/> (in memory) and
/// <see cref="ParticleStarStreamWriter"/> (streamed), so both write the same file.
/// </summary>
internal static class ParticleRows
{
    public static IReadOnlyList<string> Columns(bool ctf, bool pose, bool subset, bool origin = false)
    {
        var labels = new List<string> { L.ImageName, L.OpticsGroup };
        if (origin) labels.AddRange([L.MicrographName, L.CoordinateX, L.CoordinateY]);
        if (ctf) labels.AddRange([L.DefocusU, L.DefocusV, L.DefocusAngle, L.PhaseShift, L.CtfBfactor, L.CtfScalefactor]);
        if (pose) labels.AddRange([L.AngleRot, L.AngleTilt, L.AnglePsi, L.OriginXAngst, L.OriginYAngst]);
        if (subset) labels.Add(L.RandomSubset);
        return labels;
    }

    /// <summary>One particle's values in <see cref="Columns"/> order. A CTF's voltage, Cs and amplitude
    /// contrast must equal the optics group's (they are written there only).</summary>
    public static string[] Values(OpticsGroup group, ParticleRef image, CtfParameters? ctf, Pose? pose, int? randomSubset, ParticleOrigin? origin = null)
    {
        var values = new List<string>(16) { image.ToImageName(), Int(group.Number) };
        if (origin is ParticleOrigin o)
        {
            StarTable.CheckValue(o.MicrographName);
            values.AddRange([o.MicrographName, Num(o.CoordinateX), Num(o.CoordinateY)]);
        }
        if (ctf is CtfParameters c)
        {
            Same("voltage", c.VoltageKv, group.VoltageKv, group.Number);
            Same("Cs", c.SphericalAberrationMm, group.SphericalAberrationMm, group.Number);
            Same("amplitude contrast", c.AmplitudeContrast, group.AmplitudeContrast ?? 0, group.Number);
            values.AddRange([Num(c.DefocusU), Num(c.DefocusV), Num(c.DefocusAngleDeg), Num(c.PhaseShiftDeg), Num(c.BFactor), Num(c.Scale)]);
        }
        if (pose is Pose p)
            values.AddRange([Num(p.Angles.RotDeg), Num(p.Angles.TiltDeg), Num(p.Angles.PsiDeg), Num(p.OriginXAngst), Num(p.OriginYAngst)]);
        if (randomSubset is int s) values.Add(Int(s));
        return values.ToArray();
    }

    public static StarBlock OpticsBlock(IReadOnlyList<OpticsGroup> groups)
    {
        var columns = new List<(string Label, Func<OpticsGroup, string?> Value)>
        {
            (L.OpticsGroup, g => Int(g.Number)),
            (L.OpticsGroupName, g => g.Name),
            (L.AmplitudeContrast, g => g.AmplitudeContrast is double q ? Num(q) : null),
            (L.SphericalAberration, g => g.SphericalAberrationMm is double cs ? Num(cs) : null),
            (L.Voltage, g => g.VoltageKv is double kv ? Num(kv) : null),
            (L.ImagePixelSize, g => g.PixelSizeAngst is double a ? Num(a) : null),
            (L.ImageSize, g => g.ImageSize is int b ? Int(b) : null),
            (L.ImageDimensionality, _ => "2"),
        };
        var kept = columns.Where(c => groups.All(g => c.Value(g) is not null)).ToList();
        var missing = columns.FirstOrDefault(c => !kept.Contains(c) && groups.Any(g => c.Value(g) is not null));
        if (missing.Label is not null) throw new InvalidOperationException($"_{missing.Label} is given for some optics groups and not others");
        var t = new StarTable(kept.Select(k => k.Label));
        foreach (var g in groups) t.AddRow(kept.Select(k => k.Value(g)!).ToArray());
        return new StarBlock("optics", t);
    }

    private static void Same(string what, double particle, double? group, int number)
    {
        if (group is double g && Math.Abs(particle - g) <= 1e-9 * Math.Max(1, Math.Abs(g))) return;
        throw new ArgumentException($"particle CTF {what} {particle} differs from optics group {number}'s ({group?.ToString(CultureInfo.InvariantCulture) ?? "none"}); it is written only in the optics group");
    }

    private static string Int(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Num(double v) => StarNumbers.FormatCompact(v);
}
