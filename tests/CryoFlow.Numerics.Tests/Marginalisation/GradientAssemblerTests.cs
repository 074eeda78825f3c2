using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Projection;
using CryoFlow.Numerics.Quadrature;

namespace CryoFlow.Numerics.Tests.Marginalisation;

public class GradientAssemblerTests
{
    private const int D = 16;
    private const double Apix = 5;

    /// <summary>
    /// Three particles, a 3 x 3 shift grid, the directions and in-plane angles of a coarse quadrature level, and a
    /// signal weak enough that the posterior spreads over many poses.
    /// </summary>
    private sealed class Problem
    {
        public readonly MarginalisationScene Scene = new(D, Apix, amplitude: 0.5, particles: 3, seed: 5, ProjectorOptions.Default);
        public readonly FourierDisc Disc = new(D, 6);
        public readonly QuadratureLevel Level = QuadratureLevel.Create(new QuadratureSpec(D, Apix, 2.0 / (D * Apix)) { ShiftPointsPerAxis = 3, ShiftSigmaAngst = 1.5 * Apix, ShiftExtentAngst = 3 * Apix });
        public readonly PoseGrid Grid;
        public readonly SliceSet Slices;

        public Problem()
        {
            Grid = PoseGrid.FromQuadrature(Level);
            Slices = new SliceSet(Disc, Level.DirectionAngles);
        }

        public double LogLikelihood(float[] volume, ParticleMarginaliser marginaliser, SliceGradient? gradient, List<double>? bestProbabilities = null)
        {
            Scene.Update(Slices, volume);
            double sum = 0;
            foreach (var p in Scene.Particles)
            {
                var r = marginaliser.Evaluate(p.Prepared, Slices, Grid.AsSubset(), gradient);
                bestProbabilities?.Add(r.BestProbability);
                sum += r.LogLikelihood;
            }
            return sum;
        }

        public ParticleMarginaliser CreateMarginaliser() =>
            new(Scene.Rotator, ParticleMarginaliser.CapacityFor(Slices, Grid.InPlaneCount, Grid.ShiftCount));
    }

    /// <summary>(LL(v + h u) - LL(v - h u)) / 2h, the volume perturbed in float, LL summed in double.</summary>
    private static double CentralDifference(Problem pb, ParticleMarginaliser marginaliser, float[] u, double h)
    {
        var plus = new float[u.Length];
        var minus = new float[u.Length];
        for (int i = 0; i < u.Length; i++)
        {
            plus[i] = (float)(pb.Scene.Volume[i] + h * u[i]);
            minus[i] = (float)(pb.Scene.Volume[i] - h * u[i]);
        }
        return (pb.LogLikelihood(plus, marginaliser, null) - pb.LogLikelihood(minus, marginaliser, null)) / (2 * h);
    }

    /// <summary>
    /// One Richardson step on the central difference, (4 f(h/2) - f(h)) / 3, which cancels its h^2 term: the steps can
    /// then stay large enough that float rounding of LL (computed from float slices and GEMMs) does not dominate.
    /// </summary>
    private static double Richardson(Func<double, double> difference, double h) => (4 * difference(h / 2) - difference(h)) / 3;

    private static readonly Lazy<Problem> Shared = new(() => new Problem());

    [Fact]
    public void GradientOfTheMarginalLogLikelihoodMatchesCentralFiniteDifferences()
    {
        var pb = Shared.Value;
        var log = TestContext.Current.TestOutputHelper;
        using var marginaliser = pb.CreateMarginaliser();
        var gradient = new SliceGradient(pb.Slices);
        var best = new List<double>();
        double ll0 = pb.LogLikelihood(pb.Scene.Volume, marginaliser, gradient, best);
        var volumeGradient = new float[D * D * D];
        var totals = new GradientAssembler(pb.Scene.Projector).Assemble(pb.Slices, [gradient], GradientScaling.Sum, volumeGradient);
        Assert.Equal(3, totals.Particles);
        Assert.Equal(ll0, totals.LogLikelihoodSum, 9);
        log?.WriteLine($"poses {pb.Grid.PoseCount}, LL {ll0:F4}, best-pose probabilities {string.Join(" ", best.Select(b => b.ToString("F3")))}");
        // the marginalisation must be exercised: no particle's posterior is a delta
        Assert.All(best, b => Assert.True(b < 0.5, $"best-pose probability {b:F3}: posterior too concentrated"));

        var rng = new Random(17);
        double vNorm = Math.Sqrt(pb.Scene.Volume.Sum(x => (double)x * x));
        for (int trial = 0; trial < 4; trial++)
        {
            var u = new float[D * D * D];
            double uNorm = 0;
            for (int i = 0; i < u.Length; i++) { u[i] = (float)MarginalisationScene.Gaussian(rng); uNorm += u[i] * (double)u[i]; }
            double h = 0.02 * vNorm / Math.Sqrt(uNorm);
            double fd = Richardson(h => CentralDifference(pb, marginaliser, u, h), h);
            double analytic = 0;
            for (int i = 0; i < u.Length; i++) analytic += (double)volumeGradient[i] * u[i];
            double rel = Math.Abs(fd - analytic) / Math.Abs(fd);
            log?.WriteLine($"u{trial}: <grad, u> = {analytic:E6}, central difference = {fd:E6}, relative error {rel:E2}");
            Assert.True(rel < 1e-3, $"direction {trial}: analytic {analytic:E6} vs finite difference {fd:E6}, relative error {rel:E2}");
        }
    }

    private static float[] Assemble(Problem pb, GradientScaling scaling, params SliceGradient[] workers)
    {
        var g = new float[D * D * D];
        new GradientAssembler(pb.Scene.Projector).Assemble(pb.Slices, workers, scaling, g);
        return g;
    }

    private static double RelativeDifference(float[] a, float[] b)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Length; i++) { num += (a[i] - b[i]) * (double)(a[i] - b[i]); den += (double)b[i] * b[i]; }
        return Math.Sqrt(num / den);
    }

    [Fact]
    public void TheMinibatchGradientDoesNotDependOnHowParticlesAreSplitAcrossWorkers()
    {
        var pb = Shared.Value;
        using var marginaliser = pb.CreateMarginaliser();
        pb.Scene.Update(pb.Slices, pb.Scene.Volume);
        var one = new SliceGradient(pb.Slices);
        var first = new SliceGradient(pb.Slices);
        var second = new SliceGradient(pb.Slices);
        for (int i = 0; i < pb.Scene.Particles.Count; i++)
        {
            marginaliser.Evaluate(pb.Scene.Particles[i].Prepared, pb.Slices, pb.Grid.AsSubset(), one);
            marginaliser.Evaluate(pb.Scene.Particles[i].Prepared, pb.Slices, pb.Grid.AsSubset(), i == 1 ? second : first);
        }
        var together = Assemble(pb, GradientScaling.Sum, one);
        var split = Assemble(pb, GradientScaling.Sum, first, second);
        var again = Assemble(pb, GradientScaling.Sum, first, second);
        Assert.Equal(split, again); // a fixed order reproduces the gradient bit for bit
        double rel = RelativeDifference(split, together);
        Assert.True(rel < 1e-6, $"two workers vs one: relative difference {rel:E2}"); // float sums in another order
        var mean = Assemble(pb, GradientScaling.PerImageMean, first, second);
        double meanRel = RelativeDifference(mean, split.Select(v => v / 3).ToArray());
        Assert.True(meanRel < 1e-6, $"per-image mean vs sum / 3: relative difference {meanRel:E2}");
        var totals = new GradientAssembler(pb.Scene.Projector).Assemble(pb.Slices, [first, second], GradientScaling.Sum, new float[D * D * D]);
        Assert.Equal(one.LogLikelihoodSum, totals.LogLikelihoodSum, 9);
        Assert.Equal(one.LogLikelihoodSum / 3, totals.MeanLogLikelihood, 9);
        first.Clear();
        Assert.Equal(0, first.Particles);
        Assert.All(Enumerable.Range(0, first.Directions), d => Assert.False(first.IsTouched(d)));
        Assert.All(first.Re.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ASubsetInAnyOrderMarginalisesAndScattersThroughItsSliceSetDirections()
    {
        // the grid's directions permuted (log-weights with them) are the same sum; half of them touch only their rows
        var pb = Shared.Value;
        using var marginaliser = pb.CreateMarginaliser();
        pb.Scene.Update(pb.Slices, pb.Scene.Volume);
        var grid = pb.Grid.AsSubset();
        var gridLwd = grid.DirectionLogWeights.ToArray();
        int nd = pb.Slices.Count;
        var perm = Enumerable.Range(0, nd).OrderBy(i => (i * 7919) % nd).ToArray();
        var lwd = perm.Select(i => gridLwd[i]).ToArray();
        var permuted = grid with { Directions = perm, DirectionLogWeights = lwd };
        var full = new SliceGradient(pb.Slices);
        var shuffled = new SliceGradient(pb.Slices);
        foreach (var p in pb.Scene.Particles)
        {
            var a = marginaliser.Evaluate(p.Prepared, pb.Slices, grid, full);
            var b = marginaliser.Evaluate(p.Prepared, pb.Slices, permuted, shuffled);
            Assert.Equal(a.LogLikelihood, b.LogLikelihood, 1e-4);
            Assert.Equal(a.BestDirection, b.BestDirection);
            Assert.Equal(a.BestPose, b.BestPose);
            Assert.Equal(perm[b.Best.Direction], b.BestDirection);
        }
        double rel = RelativeDifference(Assemble(pb, GradientScaling.Sum, shuffled), Assemble(pb, GradientScaling.Sum, full));
        Assert.True(rel < 1e-5, $"permuted subset: relative difference {rel:E2}");

        var half = perm.Take(nd / 2).ToArray();
        var subset = grid with { Directions = half, DirectionLogWeights = half.Select(i => gridLwd[i]).ToArray() };
        var partial = new SliceGradient(pb.Slices);
        var postD = new double[half.Length];
        marginaliser.Evaluate(pb.Scene.Particles[0].Prepared, pb.Slices, subset, partial, new MarginalOutputs { PosteriorDirection = postD });
        Assert.Equal(1.0, postD.Sum(), 9);
        for (int d = 0; d < nd; d++)
            Assert.Equal(half.Contains(d), partial.IsTouched(d));
    }

    [Fact]
    public void MarginalisingAParticleDoesNotAllocate()
    {
        var pb = Shared.Value;
        using var marginaliser = pb.CreateMarginaliser();
        pb.Scene.Update(pb.Slices, pb.Scene.Volume);
        var gradient = new SliceGradient(pb.Slices);
        var particle = pb.Scene.Particles[0].Prepared;
        var postD = new double[pb.Slices.Count];
        var subset = pb.Grid.AsSubset();
        marginaliser.Evaluate(particle, pb.Slices, subset, gradient, new MarginalOutputs { PosteriorDirection = postD });
        long before = GC.GetAllocatedBytesForCurrentThread();
        marginaliser.Evaluate(particle, pb.Slices, subset, gradient, new MarginalOutputs { PosteriorDirection = postD });
        marginaliser.Evaluate(particle, pb.Slices, subset, null);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void SlicesAreTheProjectorsAndDoNotDependOnTheDegreeOfParallelism()
    {
        var pb = Shared.Value;
        var fv = pb.Scene.Projector.CreateFourierVolume();
        pb.Scene.Projector.Transform(pb.Scene.Volume, fv);
        var serial = new SliceSet(pb.Disc, pb.Level.DirectionAngles);
        var parallel = new SliceSet(pb.Disc, pb.Level.DirectionAngles);
        serial.Update(pb.Scene.Projector, fv, 1);
        parallel.Update(pb.Scene.Projector, fv, 4);
        Assert.Equal(serial.Re.ToArray(), parallel.Re.ToArray());
        Assert.Equal(serial.Im.ToArray(), parallel.Im.ToArray());
        var one = new float[2 * pb.Disc.Count];
        int nk = pb.Disc.Count;
        foreach (int d in new[] { 0, 17, serial.Count - 1 })
        {
            pb.Scene.Projector.Project(fv, pb.Disc, pb.Level.DirectionRotations[d], one);
            for (int k = 0; k < nk; k++)
            {
                Assert.Equal(one[2 * k], serial.Re[d * nk + k]);
                Assert.Equal(one[2 * k + 1], serial.Im[d * nk + k]);
            }
        }
    }
}
