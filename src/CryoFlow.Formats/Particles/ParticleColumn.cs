using System.Globalization;
using CryoFlow.Numerics.Geometry;

namespace CryoFlow.Formats.Particles;

/// <summary>
/// A per-particle column to set when writing a particle table: one value per particle, in the
/// table's particle order. It replaces a column of the same label, or is appended.
/// </summary>
public sealed class ParticleColumn
{
    private readonly Func<int, string> _valueOf;

    private ParticleColumn(string label, int count, Func<int, string> valueOf)
    {
        Label = Star.StarTable.CheckLabel(label);
        Count = count;
        _valueOf = valueOf;
    }

    public string Label { get; }

    public int Count { get; }

    internal string ValueOf(int particle) => _valueOf(particle);

    public static ParticleColumn FromStrings(string label, IReadOnlyList<string> values)
    {
        foreach (string v in values) Star.StarTable.CheckValue(v);
        return new(label, values.Count, i => values[i]);
    }

    /// <summary>Numbers printed so that they read back exactly.</summary>
    public static ParticleColumn FromDoubles(string label, IReadOnlyList<double> values) =>
        new(label, values.Count, i => Star.StarNumbers.Format(values[i]));

    /// <summary>Numbers made on demand (e.g. read from a disk-backed store as the file is written), printed to read back exactly.</summary>
    public static ParticleColumn FromDoubles(string label, int count, Func<int, double> valueOf) =>
        new(label, count, i => Star.StarNumbers.Format(valueOf(i)));

    public static ParticleColumn FromInts(string label, IReadOnlyList<int> values) =>
        new(label, values.Count, i => values[i].ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// rlnAngleRot, rlnAngleTilt, rlnAnglePsi (degrees) and rlnOriginXAngst, rlnOriginYAngst (Å):
    /// what a refinement writes back.
    /// </summary>
    public static IReadOnlyList<ParticleColumn> FromPoses(IReadOnlyList<Pose> poses) =>
    [
        FromDoubles(RelionLabels.AngleRot, new Projection(poses, p => p.Angles.RotDeg)),
        FromDoubles(RelionLabels.AngleTilt, new Projection(poses, p => p.Angles.TiltDeg)),
        FromDoubles(RelionLabels.AnglePsi, new Projection(poses, p => p.Angles.PsiDeg)),
        FromDoubles(RelionLabels.OriginXAngst, new Projection(poses, p => p.OriginXAngst)),
        FromDoubles(RelionLabels.OriginYAngst, new Projection(poses, p => p.OriginYAngst)),
    ];

    private sealed class Projection(IReadOnlyList<Pose> poses, Func<Pose, double> pick) : IReadOnlyList<double>
    {
        public double this[int index] => pick(poses[index]);

        public int Count => poses.Count;

        public IEnumerator<double> GetEnumerator() => poses.Select(pick).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
