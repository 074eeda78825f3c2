namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// Settings of the random initial density (DESIGN 5): a sum of soft-edged spheres of random radius, amplitude
/// and position, entirely inside the particle radius, scaled to a total mass or mean. Lengths in pixels.
/// </summary>
public sealed record RandomStartOptions
{
    /// <summary>The same seed (and settings and box) gives the same density on every machine.</summary>
    public int Seed { get; init; }

    public int SphereCount { get; init; } = 30;

    /// <summary>px from the box centre (voxel D/2) outside which the density is 0; null for D/2 - 1.</summary>
    public double? ParticleRadius { get; init; }

    /// <summary>Smallest sphere radius, as a fraction of the particle radius.</summary>
    public double MinSphereRadius { get; init; } = 0.1;

    /// <summary>Largest sphere radius, as a fraction of the particle radius.</summary>
    public double MaxSphereRadius { get; init; } = 0.3;

    /// <summary>px over which a sphere's edge falls from full to 0 (raised cosine centred on its radius).</summary>
    public double EdgeWidth { get; init; } = 2;

    /// <summary>Scale so that the voxels sum to this; at most one of this and <see cref="MeanDensity"/>.</summary>
    public double? TotalMass { get; init; }

    /// <summary>Scale so that the mean over the whole box is this.</summary>
    public double? MeanDensity { get; init; }

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first bad member.</summary>
    public void Validate()
    {
        SettingCheck.AtLeast(SphereCount, 1, "sphereCount");
        if (ParticleRadius is double r) SettingCheck.Positive(r, "particleRadius");
        SettingCheck.InRange(MinSphereRadius, 1e-6, 1, "minSphereRadius");
        SettingCheck.InRange(MaxSphereRadius, MinSphereRadius, 1, "maxSphereRadius");
        SettingCheck.AtLeast(EdgeWidth, 0, "edgeWidth");
        if (TotalMass is not null && MeanDensity is not null) throw new InvalidSettingException("meanDensity", "give totalMass or meanDensity, not both");
        if (TotalMass is double m) SettingCheck.Positive(m, "totalMass");
        if (MeanDensity is double d) SettingCheck.Positive(d, "meanDensity");
    }
}

/// <summary>The random initial density: a sum of random soft spheres inside the particle radius, from a seed.</summary>
public static class RandomStart
{
    /// <summary>A new D^3 volume (<see cref="Fourier.FourierLayout"/> real-space order).</summary>
    public static float[] Create(int boxSize, RandomStartOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(boxSize, 2);
        var volume = new float[checked(boxSize * boxSize * boxSize)];
        Fill(volume, boxSize, options);
        return volume;
    }

    /// <summary>
    /// Overwrites <paramref name="volume"/>. Sphere radii are uniform in [min, max] x R (less the edge when the
    /// sphere would not fit), amplitudes uniform in [0.5, 1], centres uniform in the ball where the whole sphere,
    /// edge included, lies within R of the box centre. So every voxel farther than R from voxel (D/2, D/2, D/2)
    /// is exactly 0, and every voxel is &gt;= 0.
    /// </summary>
    public static void Fill(Span<float> volume, int boxSize, RandomStartOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int d = boxSize;
        if (volume.Length != (long)d * d * d) throw new ArgumentException($"volume has {volume.Length} voxels, expected {d}^3", nameof(volume));
        double particle = options.ParticleRadius ?? d / 2.0 - 1;
        double halfEdge = options.EdgeWidth / 2;
        if (!(particle > halfEdge)) throw new InvalidSettingException("particleRadius", $"{particle} px leaves no room for spheres with edges of {options.EdgeWidth} px");

        volume.Clear();
        var rng = new Random(options.Seed);
        double centre = d / 2;
        for (int s = 0; s < options.SphereCount; s++)
        {
            double fraction = options.MinSphereRadius + rng.NextDouble() * (options.MaxSphereRadius - options.MinSphereRadius);
            double radius = Math.Min(fraction * particle, particle - halfEdge);
            double amplitude = 0.5 + 0.5 * rng.NextDouble();
            double room = particle - radius - halfEdge;
            double cx, cy, cz;
            do
            {
                cx = 2 * rng.NextDouble() - 1;
                cy = 2 * rng.NextDouble() - 1;
                cz = 2 * rng.NextDouble() - 1;
            }
            while (cx * cx + cy * cy + cz * cz > 1);
            AddSphere(volume, d, centre + room * cx, centre + room * cy, centre + room * cz, radius, options.EdgeWidth, amplitude);
        }

        double total = VectorMath.Sum(volume);
        if (!(total > 0)) throw new InvalidOperationException($"the random spheres cover no voxel (particle radius {particle} px, box {d})");
        double target = options.TotalMass ?? (options.MeanDensity is double mean ? mean * volume.Length : double.NaN);
        if (!double.IsNaN(target)) System.Numerics.Tensors.TensorPrimitives.Multiply(volume, (float)(target / total), volume);
    }

    private static void AddSphere(Span<float> volume, int d, double cx, double cy, double cz, double radius, double edge, double amplitude)
    {
        double inner = radius - edge / 2, outer = radius + edge / 2;
        int lo(double c) => Math.Max(0, (int)Math.Floor(c - outer));
        int hi(double c) => Math.Min(d - 1, (int)Math.Ceiling(c + outer));
        for (int z = lo(cz); z <= hi(cz); z++)
            for (int y = lo(cy); y <= hi(cy); y++)
                for (int x = lo(cx); x <= hi(cx); x++)
                {
                    double dx = x - cx, dy = y - cy, dz = z - cz;
                    double r = Math.Sqrt(dx * dx + dy * dy + dz * dz);
                    if (r >= outer) continue;
                    double profile = r <= inner ? 1 : 0.5 * (1 + Math.Cos(Math.PI * (r - inner) / edge));
                    volume[(z * d + y) * d + x] += (float)(amplitude * profile);
                }
    }
}
