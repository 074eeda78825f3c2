using System.Numerics.Tensors;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// The feasible set every optimiser projects the density onto after its step: first the spherical support (the map
/// is multiplied by a soft mask that is 1 inside the particle and 0 in the solvent), then positivity (V = max(V, lower
/// bound), REFERENCE 5.4). Either part may be absent; <c>default</c> is no constraint.
/// </summary>
/// <param name="LowerBound">the positivity bound; null for none</param>
/// <param name="Support">the solvent mask; null for none</param>
public readonly record struct DensityConstraint(double? LowerBound, SphericalSupport? Support)
{
    /// <summary>Whether the projection changes anything at all.</summary>
    public bool IsNone => LowerBound is null && Support is null;

    /// <summary>Projects <paramref name="volume"/> in place: support, then the bound.</summary>
    public void Project(Span<float> volume)
    {
        Support?.Apply(volume);
        Positivity.Project(volume, LowerBound);
    }

    /// <summary>Throws when the support's mask does not have <paramref name="length"/> voxels.</summary>
    public void CheckLength(int length)
    {
        if (Support is not null && Support.Length != length)
            throw new ArgumentException($"the support mask has {Support.Length} voxels, the optimiser {length}");
    }
}

/// <summary>
/// A spherical solvent mask on a D^3 density, centred on voxel (D/2, D/2, D/2): 1 out to <see cref="RadiusPx"/>, a
/// raised-cosine edge of <see cref="SoftEdgePx"/>, 0 beyond. Multiplying the map by it after every step keeps the
/// density inside the particle, as RELION's solvent flattening with <c>--particle_diameter</c> does: the solvent's
/// voxels, which the data barely constrain (the CTF is small at low frequency), cannot drift, and the ab-initio search
/// has far fewer free parameters (CryoFlow; the papers use positivity only).
/// </summary>
public sealed class SphericalSupport
{
    private readonly float[] _mask;

    /// <param name="boxSize">D, px</param>
    /// <param name="radiusPx">radius of the flat part, px (&gt; 0)</param>
    /// <param name="softEdgePx">width of the cosine edge, px (&gt;= 0; 0 for a hard edge)</param>
    public SphericalSupport(int boxSize, double radiusPx, double softEdgePx)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(boxSize, 2);
        SettingCheck.Positive(radiusPx, "radiusPx");
        SettingCheck.AtLeast(softEdgePx, 0, "softEdgePx");
        BoxSize = boxSize;
        RadiusPx = radiusPx;
        SoftEdgePx = softEdgePx;
        _mask = new float[checked(boxSize * boxSize * boxSize)];
        int c = boxSize / 2, i = 0;
        for (int z = 0; z < boxSize; z++)
            for (int y = 0; y < boxSize; y++)
                for (int x = 0; x < boxSize; x++, i++)
                {
                    double r = Math.Sqrt((double)(x - c) * (x - c) + (double)(y - c) * (y - c) + (double)(z - c) * (z - c));
                    _mask[i] = r <= radiusPx ? 1f
                        : softEdgePx > 0 && r < radiusPx + softEdgePx ? (float)(0.5 * (1 + Math.Cos(Math.PI * (r - radiusPx) / softEdgePx)))
                        : 0f;
                }
    }

    public int BoxSize { get; }

    public double RadiusPx { get; }

    public double SoftEdgePx { get; }

    /// <summary>D^3.</summary>
    public int Length => _mask.Length;

    /// <summary>The mask, [z][y][x].</summary>
    public ReadOnlySpan<float> Mask => _mask;

    /// <summary>volume *= mask.</summary>
    public void Apply(Span<float> volume)
    {
        if (volume.Length != _mask.Length) throw new ArgumentException($"volume has {volume.Length} voxels, the mask {_mask.Length}", nameof(volume));
        TensorPrimitives.Multiply(volume, _mask, volume);
    }
}
