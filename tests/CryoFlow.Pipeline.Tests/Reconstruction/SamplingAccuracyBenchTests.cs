using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.Pipeline.Simulation;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Reconstruction;

/// <summary>One small simulated dataset (box 32, 6 Å/px) whose truth serves as the converged map.</summary>
public sealed class SmallDataset : IDisposable
{
    private readonly TempDir _dir = new();

    public SmallDataset()
    {
        var sim = SimulateJob.Run(TestPaths.RealData("volumes/hand-vol.mrc"),
            new SimulateOptions(_dir.File("data"), 60, VoxelSize: 3.0, Box: 32, Snr: 0.1, ShiftSigma: 1, Seed: 11), Logger.None);
        StarPath = sim.StarPath;
        TruthPath = Path.Combine(_dir.File("data"), SimulateJob.TruthName);
    }

    public string StarPath { get; }

    public string TruthPath { get; }

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// Importance sampling on real likelihoods (DESIGN 4.2's validation, issue 5): the state comes from an exhaustive visit
/// with a blurred truth, the estimate is evaluated with the truth, through the pipeline's <see cref="SamplingEngine"/>.
/// </summary>
public class SamplingAccuracyBenchTests(SmallDataset data, ITestOutputHelper output) : IClassFixture<SmallDataset>
{
    // w* = 1/15 Å: r* = 12.8 px at box 32, 6 Å/px; the quick preset's grids, shifts over +-18 Å
    private SamplingAccuracyRequest Request(params string[] extra) => new()
    {
        MapPath = data.TruthPath,
        PreviousBFactor = 200,
        ParticlesPath = data.StarPath,
        MaxFrequency = 1 / 15.0,
        Config = ReconstructConfig.Load(Path.Combine(TestPaths.RepoRoot, "configs", "quick.json"),
            ["run.threads=2", "quadrature.shiftSigma=6", "quadrature.shiftExtent=18", .. extra]),
    };

    [Fact]
    public void LogLikelihoodErrorIsBelowATenthOfAPercentAtS0TenAndLargerS0EvaluatesMoreAndErrsLess()
    {
        var r = SamplingAccuracyBench.Run(Request() with { Count = 40, EssScales = [1, 3, 10, 30] }, Logger.None);
        output.WriteLine($"{r.Grid}, LL median {r.MedianLogLikelihood:F1}, previous record {r.PreviousStateBytes:F0} B");
        foreach (var s in r.Scales) output.WriteLine(s.ToString());

        Assert.Equal(40, r.Particles.Count);
        Assert.True(r.Grid.Shifts > 1 && r.Grid.Directions > 100, $"grid {r.Grid}");
        var at10 = r.Scales.Single(s => s.EssScale == 10);
        Assert.True(at10.MedianRelativeError < 1e-3, $"median relative error at s0 = 10: {at10.MedianRelativeError}");
        for (int k = 1; k < r.Scales.Count; k++)
            Assert.True(r.Scales[k].MeanFraction > r.Scales[k - 1].MeanFraction, $"fraction should grow with s0: {string.Join(", ", r.Scales.Select(s => s.MeanFraction))}");
        Assert.True(r.Scales[^1].MedianAbsoluteError < r.Scales[0].MedianAbsoluteError && at10.MedianAbsoluteError < r.Scales[0].MedianAbsoluteError,
            $"error should fall with s0: {string.Join(", ", r.Scales.Select(s => s.MedianAbsoluteError))}");
        Assert.True(r.Scales[^1].MeanFraction < 0.5, "sampling should evaluate well under the full grid");
    }

    [Fact]
    public void EstimatedLikelihoodIsUnbiased()
    {
        const int repeats = 2000;
        var r = SamplingAccuracyBench.Run(Request() with { Count = 3, EssScales = [1, 10], Repeats = repeats }, Logger.None);
        foreach (var p in r.Particles)
        {
            for (int e = 0; e < r.Scales.Count; e++)
            {
                var ratio = p.Deltas[e].Select(Math.Exp).ToArray();
                double mean = ratio.Average();
                double se = Math.Sqrt(ratio.Sum(v => (v - mean) * (v - mean)) / (repeats - 1) / repeats);
                output.WriteLine($"particle {p.Particle}, s0 {r.Scales[e].EssScale}: mean L_IS/L {mean:F4} +- {se:F4}, median dLL {Median(p.Deltas[e]):F4}");
                Assert.True(Math.Abs(mean - 1) < 3 * se + 1e-3, $"particle {p.Particle}, s0 {r.Scales[e].EssScale}: mean L_IS/L = {mean} +- {se}");
            }
        }
    }

    [Fact]
    public void RecordAfterAFlatFullGridVisitHoldsEveryPoint()
    {
        // at iteration 0 the quick preset anneals by T = 2^150: nothing is pruned from the full grid
        var r = SamplingAccuracyBench.Run(Request() with { Count = 2, EssScales = [10], Iteration = 0 }, Logger.None);
        Assert.Equal(SamplingStateSizes.RecordBytes(r.PreviousGrid.Directions, r.PreviousGrid.InPlaneAngles, r.PreviousGrid.Shifts), r.PreviousStateBytes);
        Assert.True(r.Scales[0].MeanStateBytes <= r.PreviousStateBytes);
    }

    private static double Median(double[] v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
