using CryoFlow.Formats.Particles;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Projection;

namespace CryoFlow.Pipeline.Evaluation;

/// <summary>What <see cref="KnownPoseReconstruction.Run"/> does to the poses before reconstructing.</summary>
/// <param name="ShiftNodes">px: when set, each slice-frame shift component is moved to the nearest of these values, as a
/// shift quadrature with these nodes per axis would at best place it; null keeps the shifts exact</param>
/// <param name="AngleError">degrees: when positive, each pose is turned by this angle about a random axis (seeded)</param>
/// <param name="Seed">seed of the random axes</param>
public sealed record PosePerturbation(IReadOnlyList<double>? ShiftNodes = null, double AngleError = 0, int Seed = 7)
{
    /// <summary>Exact poses.</summary>
    public static PosePerturbation None { get; } = new();
}

/// <summary>
/// The map that the particles' given poses (their STAR rows) determine, by least squares through CryoFlow's own
/// likelihood: with one pose per particle the log-likelihood is quadratic in the density, and its gradient (the
/// marginaliser and <see cref="GradientAssembler"/> the reconstruction uses) drives conjugate gradients from zero. It
/// measures what the data, the forward model and a pose accuracy allow, apart from the search and the optimiser:
/// exact poses, or poses snapped to a shift grid or turned by an angle (<see cref="PosePerturbation"/>). Early
/// stopping (a few iterations) is the only regularisation, so CTF zeros are noisier than in a Wiener-filtered map.
/// </summary>
public static class KnownPoseReconstruction
{
    /// <param name="table">particles with poses and CTFs</param>
    /// <param name="count">the first this many particles</param>
    /// <param name="iterations">conjugate-gradient iterations</param>
    /// <param name="perturbation">what is done to the poses</param>
    /// <param name="progress">receives (iteration, log-likelihood, map) after each iteration</param>
    /// <returns>the map, D^3 voxels [z][y][x]</returns>
    public static float[] Run(ParticleTable table, int count, int iterations, PosePerturbation perturbation, Action<int, double, float[]>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(perturbation);
        count = Math.Min(count, table.Count);
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "needs at least one particle");
        using var reader = new ParticleImageReader(table);
        var (d, _) = reader.ImageSize(0);
        double apix = table[0].PixelSizeAngst ?? throw new InvalidOperationException($"{table.SourcePath}: no pixel size");
        var projector = new VolumeProjector(d, ProjectorOptions.Default);
        var transform = projector.CreateFourierVolume();
        var rotator = new ImageRotator(d, ProjectorOptions.Default);
        // prepared as a reconstruction with the default data settings prepares them
        var preparer = new ParticlePreparer(rotator, Configuration.ReconstructConfig.Default.Data.PreparationFor(d, apix));
        var disc = new FourierDisc(d, d / 2.0 - 1);

        var particles = new PreparedParticle[count];
        var angles = new EulerAngles[count];
        var psi = new double[count];
        var shifts = new (float X, float Y)[count];
        var rng = new Random(perturbation.Seed);
        var pixels = new float[d * d];
        for (int i = 0; i < count; i++)
        {
            var p = table[i];
            var pose = p.Pose ?? throw new InvalidOperationException($"{table.SourcePath}: particle {i + 1} has no pose");
            var ctf = p.Ctf ?? throw new InvalidOperationException($"{table.SourcePath}: particle {i + 1} has no CTF");
            reader.Read(i, pixels);
            particles[i] = preparer.CreateParticle();
            preparer.Prepare(pixels, apix, ctf, particles[i]);
            var a = pose.Angles;
            if (perturbation.AngleError > 0) a = EulerAngles.FromMatrix(a.ToMatrix() * RandomTurn(rng, perturbation.AngleError));
            psi[i] = a.PsiDeg * Math.PI / 180;
            angles[i] = a with { PsiDeg = 0 };
            var t = PoseConventions.OriginToSliceShift(pose.OriginXAngst / apix, pose.OriginYAngst / apix, psi[i]);
            shifts[i] = ((float)Snap(t.X, perturbation.ShiftNodes), (float)Snap(t.Y, perturbation.ShiftNodes));
        }

        var slices = new SliceSet(disc, angles);
        var one = new SliceSet(disc, [angles[0]]);
        using var marginaliser = new ParticleMarginaliser(rotator, ParticleMarginaliser.CapacityFor(one, 1, 1));
        var sliceGradient = new SliceGradient(slices);
        var assembler = new GradientAssembler(projector);
        int n = d * d * d;
        double[] zeroWeight = [0.0];
        int[] direction = [0];
        double[] inPlane = [0.0];
        float[] sx = [0f], sy = [0f];

        // the gradient of sum LL at v (ascent direction), into g, and sum LL
        double Gradient(float[] v, float[] g)
        {
            projector.Transform(v, transform);
            slices.Update(projector, transform);
            sliceGradient.Clear();
            for (int i = 0; i < count; i++)
            {
                direction[0] = i;
                inPlane[0] = psi[i];
                sx[0] = shifts[i].X;
                sy[0] = shifts[i].Y;
                var subset = new PoseSubset
                {
                    Directions = direction, DirectionLogWeights = zeroWeight, InPlaneAngles = inPlane, InPlaneLogWeights = zeroWeight,
                    ShiftX = sx, ShiftY = sy, ShiftLogWeights = zeroWeight,
                };
                marginaliser.Evaluate(particles[i], slices, subset, sliceGradient);
            }
            return assembler.Assemble(slices, [sliceGradient], GradientScaling.Sum, g).LogLikelihoodSum;
        }

        // the gradient is b - H v: conjugate gradients on H v = b from v = 0, with H p = g(0) - g(p). LL is quadratic, so
        // each step of length alpha along p raises it by alpha (p . r) - alpha^2 (p . H p) / 2 = alpha (r . r) / 2
        var volume = new float[n];
        var b = new float[n];
        double ll = Gradient(volume, b);
        var residual = (float[])b.Clone();
        var direction3 = (float[])b.Clone();
        var hp = new float[n];
        double rr = Dot(residual, residual);
        for (int it = 1; it <= iterations && rr > 0; it++)
        {
            Gradient(direction3, hp);
            for (int i = 0; i < n; i++) hp[i] = b[i] - hp[i];
            double curvature = Dot(direction3, hp);
            if (!(curvature > 0)) break;
            double alpha = rr / curvature;
            for (int i = 0; i < n; i++)
            {
                volume[i] += (float)(alpha * direction3[i]);
                residual[i] -= (float)(alpha * hp[i]);
            }
            ll += alpha * rr / 2;
            double next = Dot(residual, residual);
            float beta = (float)(next / rr);
            for (int i = 0; i < n; i++) direction3[i] = residual[i] + beta * direction3[i];
            rr = next;
            progress?.Invoke(it, ll, volume);
        }
        return volume;
    }

    private static double Snap(double v, IReadOnlyList<double>? nodes)
    {
        if (nodes is null || nodes.Count == 0) return v;
        double best = nodes[0];
        foreach (double node in nodes)
            if (Math.Abs(node - v) < Math.Abs(best - v)) best = node;
        return best;
    }

    private static Rotation3 RandomTurn(Random rng, double degrees)
    {
        double x, y, z, norm;
        do
        {
            x = 2 * rng.NextDouble() - 1;
            y = 2 * rng.NextDouble() - 1;
            z = 2 * rng.NextDouble() - 1;
            norm = x * x + y * y + z * z;
        }
        while (norm > 1 || norm < 1e-6);
        double scale = degrees * Math.PI / 180 / Math.Sqrt(norm);
        return Rotation3.FromAxisAngle(x * scale, y * scale, z * scale);
    }

    private static double Dot(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}
