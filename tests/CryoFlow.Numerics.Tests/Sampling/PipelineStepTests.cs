using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Quadrature;
using CryoFlow.Numerics.Sampling;

namespace CryoFlow.Numerics.Tests.Sampling;

/// <summary>One particle's sample -> PoseSubset -> (posterior marginals) -> record -> global update loop.</summary>
public class PipelineStepTests
{
    private static readonly QuadratureLevel Level = QuadratureLevel.Create(new QuadratureSpec(64, 2.8, 0.05));

    [Fact]
    public void FullGridSubsetEqualsTheExhaustivePoseGrid()
    {
        var (samplers, ws) = Setup();
        for (int f = 0; f < 3; f++) samplers[f].Sample(null, null, new ProposalParameters(1, 0, 10), null, new Random(f), ws[f]);
        var set = new PoseSampleSet();
        set.Build(Level, ws[0], ws[1], ws[2]);
        var subset = set.AsSubset();
        var grid = PoseGrid.FromQuadrature(Level).AsSubset();
        Assert.Equal(grid.Directions.ToArray(), subset.Directions.ToArray());
        Assert.Equal(grid.DirectionLogWeights.ToArray(), subset.DirectionLogWeights.ToArray());
        Assert.Equal(grid.InPlaneAngles.ToArray(), subset.InPlaneAngles.ToArray());
        Assert.Equal(grid.InPlaneLogWeights.ToArray(), subset.InPlaneLogWeights.ToArray());
        Assert.Equal(grid.ShiftX.ToArray(), subset.ShiftX.ToArray());
        Assert.Equal(grid.ShiftY.ToArray(), subset.ShiftY.ToArray());
        Assert.Equal(grid.ShiftLogWeights.ToArray(), subset.ShiftLogWeights.ToArray());
        Assert.Equal(Level.PoseCount, set.PoseCount);
    }

    [Fact]
    public void RecordedSampledVisitConcentratesTheNextProposal()
    {
        var (samplers, ws) = Setup();
        var domains = samplers.Select(s => s.Domain).ToArray();
        var globals = domains.Select(d => new GlobalDistribution(d)).ToArray();
        var rng = new Random(3);
        // peaked synthetic posterior per factor, separable
        var logLik = domains.Select(d =>
        {
            var c = SamplingScenes.RandomCentre(d, rng);
            return SamplingScenes.LogGaussianBump(d, c.X, c.Y, c.Z, 0.6 * d.Sigma[0]);
        }).ToArray();
        FactorState?[] states = new FactorState?[3];
        var p = new ProposalParameters(0.05, 0.9, 10);
        for (int visit = 0; visit < 3; visit++)
        {
            var set = new PoseSampleSet();
            for (int f = 0; f < 3; f++)
                samplers[f].Sample(states[f], domains[f], p, globals[f].Snapshot(10), rng, ws[f]);
            set.Build(Level, ws[0], ws[1], ws[2]);
            var subset = set.AsSubset();
            // what the marginaliser would return for a separable posterior: per factor, weight x likelihood over the subset
            var marginals = new[]
            {
                Marginal(subset.DirectionLogWeights, ws[0], logLik[0]),
                Marginal(subset.InPlaneLogWeights, ws[1], logLik[1]),
                Marginal(subset.ShiftLogWeights, ws[2], logLik[2]),
            };
            if (visit == 0) Assert.True(ws.All(w => w.IsFullGrid));
            if (visit == 2) Assert.True(ws[0].Count < domains[0].Count / 10, $"{ws[0].Count} of {domains[0].Count}");
            for (int f = 0; f < 3; f++)
            {
                var state = FactorState.Record(domains[f].LevelId, visit, ws[f].Indices, ws[f].LogWeights, marginals[f], temperature: 1);
                var kernel = samplers[f].KernelFrom(domains[f], flip: false);
                if (states[f] is { } old) globals[f].Accumulate(old, kernel, -1);
                globals[f].Accumulate(state, kernel);
                states[f] = state;
                var bytes = new byte[state.SerializedSize];
                state.WriteTo(bytes);
                states[f] = FactorState.Read(bytes);
            }
        }
        Assert.All(globals, g => Assert.Equal(1.0, g.Weight, 12));
        Assert.Equal(1.0, globals[0].Snapshot(10).Probabilities.ToArray().Sum(), 10);
    }

    private static double[] Marginal(ReadOnlySpan<double> subsetLogWeights, SamplingWorkspace ws, double[] logLik)
    {
        var v = new double[ws.Count];
        for (int s = 0; s < v.Length; s++) v[s] = subsetLogWeights[s] + logLik[ws.Indices[s]];
        double z = SamplingScenes.LogSumExp(v);
        return v.Select(x => Math.Exp(x - z)).ToArray();
    }

    private static (FactorSampler[], SamplingWorkspace[]) Setup()
    {
        var samplers = new[]
        {
            new FactorSampler(FactorDomain.Directions(Level, 0)),
            new FactorSampler(FactorDomain.InPlane(Level, 0)),
            new FactorSampler(FactorDomain.Shifts(Level, 0)),
        };
        return (samplers, [new(), new(), new()]);
    }
}
