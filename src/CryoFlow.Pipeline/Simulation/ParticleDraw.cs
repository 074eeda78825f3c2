using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;

namespace CryoFlow.Pipeline.Simulation;

/// <summary>The random quantities of one simulated particle, drawn from a generator seeded by (seed, index).</summary>
public readonly record struct ParticleDraw(long Index, Pose Pose, CtfParameters Ctf, int NoiseSeed)
{
    /// <summary>Draws particle <paramref name="index"/>: the same numbers whatever the thread count or order.</summary>
    public static ParticleDraw Create(SimulateOptions o, double pixelSize, long index)
    {
        var rng = new Random(Sampling.Seeds.Mix(o.Seed, index));
        var angles = EulerAngles.FromMatrix(UniformRotation(rng));
        double ox = Gaussian(rng) * o.ShiftSigma * pixelSize;
        double oy = Gaussian(rng) * o.ShiftSigma * pixelSize;
        double u = o.DefocusMin + rng.NextDouble() * (o.DefocusMax - o.DefocusMin);
        double v = u - rng.NextDouble() * o.Astigmatism;
        double angle = rng.NextDouble() * 180;
        var ctf = new CtfParameters(u, v, angle, o.VoltageKv, o.SphericalAberrationMm, o.AmplitudeContrast, 0, o.BFactor, 1);
        return new ParticleDraw(index, new Pose(angles, ox, oy), ctf, rng.Next());
    }

    /// <summary>A rotation uniform on SO(3): a uniformly random unit quaternion (Shoemake's method).</summary>
    public static Rotation3 UniformRotation(Random rng)
    {
        double u1 = rng.NextDouble(), u2 = rng.NextDouble() * 2 * Math.PI, u3 = rng.NextDouble() * 2 * Math.PI;
        double a = Math.Sqrt(1 - u1), b = Math.Sqrt(u1);
        double w = a * Math.Sin(u2), x = a * Math.Cos(u2), y = b * Math.Sin(u3), z = b * Math.Cos(u3);
        return new Rotation3(
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y));
    }

    /// <summary>Standard normal by Box-Muller (one of the pair; simplicity over speed, it is not the hot path).</summary>
    public static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
