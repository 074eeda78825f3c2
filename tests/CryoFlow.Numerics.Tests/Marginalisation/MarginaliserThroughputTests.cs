using System.Diagnostics;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Likelihood;
using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Projection;
using CryoFlow.Numerics.Quadrature;

namespace CryoFlow.Numerics.Tests.Marginalisation;

/// <summary>
/// Particles per second of one <see cref="ParticleMarginaliser"/> (one thread) at D = 64 over the exhaustive quadrature
/// of the default spec (2.5 Å/px, shift prior 10 Å, extent 60 Å). Explicit: a measurement, not a check; run with
/// <c>CryoFlow.Numerics.Tests -method "*MarginaliserThroughput*" -explicit only -parallel none</c>. Amplitude 0.2 gives a
/// concentrated posterior (late iterations: few (psi, shift) rows enter the gradient GEMMs), 0.01 a broad one (early
/// iterations: all rows do). GFLOP/s count every row as active.
/// </summary>
public class MarginaliserThroughputTests
{
    [Theory(Explicit = true)]
    [InlineData(8, 0.2)]
    [InlineData(12, 0.2)]
    [InlineData(16, 0.2)]
    [InlineData(8, 0.01)]
    [InlineData(12, 0.01)]
    [InlineData(16, 0.01)]
    public void MarginaliserThroughputOnTheExhaustiveGrid(double radius, double amplitude)
    {
        const int d = 64;
        const double apix = 2.5;
        var log = TestContext.Current.TestOutputHelper;
        var scene = new MarginalisationScene(d, apix, amplitude, particles: 2, seed: 1, ProjectorOptions.Default, maxOriginPx: 3, extent: 0.15);
        var level = QuadratureLevel.Create(new QuadratureSpec(d, apix, radius / (d * apix)));
        var grid = PoseGrid.FromQuadrature(level);
        var disc = new FourierDisc(d, radius);
        var slices = new SliceSet(disc, level.DirectionAngles);
        var sw = Stopwatch.StartNew();
        slices.Update(scene.Projector, scene.Transform, 1);
        double sliceSeconds = sw.Elapsed.TotalSeconds;
        using var marginaliser = new ParticleMarginaliser(scene.Rotator, ParticleMarginaliser.CapacityFor(slices, grid.InPlaneCount, grid.ShiftCount));
        var gradient = new SliceGradient(slices);
        var particle = scene.Particles[0].Prepared;
        var warm = marginaliser.Evaluate(particle, slices, grid.AsSubset(), gradient); // warm-up
        log?.WriteLine($"amplitude {amplitude}: best-pose probability {warm.BestProbability:F3}");
        foreach (bool withGradient in new[] { false, true })
        {
            int reps = radius <= 8 ? 20 : radius <= 12 ? 4 : 2;
            sw.Restart();
            for (int i = 0; i < reps; i++)
                marginaliser.Evaluate(scene.Particles[i % 2].Prepared, slices, grid.AsSubset(), withGradient ? gradient : null);
            double perParticle = sw.Elapsed.TotalSeconds / reps;
            long flops = MarginalLikelihoodKernel.GemmFlops(disc.Count, slices.Count, grid.InPlaneCount, grid.ShiftCount, withGradient);
            log?.WriteLine($"r* = {radius}: {slices.Count} x {grid.InPlaneCount} x {grid.ShiftCount} = {grid.PoseCount:N0} poses, {disc.Count} points; " +
                $"{(withGradient ? "with" : "without")} gradient: {perParticle * 1e3:F1} ms/particle = {1 / perParticle:F2} particles/s, " +
                $"GEMM {flops / perParticle / 1e9:F1} GFLOP/s; slices {sliceSeconds * 1e3:F0} ms (once per minibatch)");
        }
    }
}
