using CryoFlow.Numerics.Quadrature;
using CryoFlow.Numerics.Sampling;

namespace CryoFlow.Numerics.Tests.Sampling;

public class FactorSamplerTests
{
    private static readonly ProposalParameters Late = new(UniformShare: 0.05, GlobalShare: 0.9, EssScale: 10);

    [Fact]
    public void FirstVisitEvaluatesTheFullGridWithUnitWeights()
    {
        var d = SamplingScenes.SphereDomain(300);
        var ws = new SamplingWorkspace();
        new FactorSampler(d).Sample(null, null, Late, GlobalSnapshot.Uniform(300), new Random(1), ws);
        Assert.True(ws.IsFullGrid);
        Assert.Equal(Enumerable.Range(0, 300), ws.Indices.ToArray());
        Assert.All(ws.LogWeights.ToArray(), w => Assert.Equal(0.0, w));
    }

    [Fact]
    public void NearlyUniformProposalEvaluatesTheFullGrid()
    {
        var d = SamplingScenes.SphereDomain(300);
        var flat = Enumerable.Repeat(1.0 / 300, 300).ToArray();
        var state = new FactorState(0, 0, Enumerable.Range(0, 300).ToArray(), flat);
        var ws = new SamplingWorkspace();
        new FactorSampler(d).Sample(state, d, Late, null, new Random(1), ws);
        Assert.True(ws.EffectiveSampleSize >= 0.95 * 300);
        Assert.True(ws.IsFullGrid);
        Assert.Equal(300, ws.Count);
    }

    [Fact]
    public void PeakedProposalSamplesFewPointsWithFiniteWeights()
    {
        var d = SamplingScenes.SphereDomain(2000);
        var state = new FactorState(0, 0, [10, 11], [0.7, 0.3]);
        var ws = new SamplingWorkspace();
        var global = new GlobalSnapshot(Enumerable.Range(0, 2000).Select(j => 1.0 + j % 3).ToArray());
        new FactorSampler(d).Sample(state, d, Late, global, new Random(3), ws);
        Assert.False(ws.IsFullGrid);
        Assert.InRange(ws.Count, 2, 2000 / 2);
        Assert.Equal(Math.Min(2000, (int)Math.Ceiling(10 * ws.EffectiveSampleSize)), ws.Draws);
        Assert.All(ws.LogWeights.ToArray(), w => Assert.True(double.IsFinite(w)));
        var idx = ws.Indices.ToArray();
        Assert.Equal(idx.Distinct().OrderBy(i => i), idx);
    }

    [Fact]
    public void EssMatchesTheDenseProposal()
    {
        var d = SamplingScenes.SphereDomain(800);
        var state = new FactorState(0, 0, [5, 300, 301], [0.5, 0.25, 0.25]);
        var gw = Enumerable.Range(0, 800).Select(j => Math.Exp(-j / 200.0)).ToArray();
        var global = new GlobalSnapshot(gw);
        var p = new ProposalParameters(0.3, 0.6, 10, ChiralityFlip: true);
        var sampler = new FactorSampler(d);
        var ws = new SamplingWorkspace();
        sampler.Sample(state, d, p, global, new Random(1), ws);
        var q = DenseProposal(sampler.KernelFrom(d, true), state, p, global);
        Assert.Equal(1.0, q.Sum(), 10);
        Assert.Equal(1 / q.Sum(v => v * v), ws.EffectiveSampleSize, 8);
        // importance weights are count / (N q_j)
        int total = 0;
        for (int s = 0; s < ws.Count; s++)
        {
            double count = Math.Exp(ws.LogWeights[s]) * ws.Draws * q[ws.Indices[s]];
            Assert.True(count >= 1 - 1e-9 && Math.Abs(count - Math.Round(count)) < 1e-8, $"count {count}");
            total += (int)Math.Round(count);
        }
        Assert.Equal(ws.Draws, total);
    }

    [Theory]
    [InlineData(FactorKind.Direction)]
    [InlineData(FactorKind.InPlane)]
    [InlineData(FactorKind.Shift)]
    public void EstimateOfTheQuadratureSumIsUnbiased(FactorKind kind)
    {
        var level = QuadratureLevel.Create(new QuadratureSpec(64, 2.8, 0.04) { UndersampleDirections = 3, UndersampleShifts = 0.5 });
        var d = kind switch
        {
            FactorKind.Direction => FactorDomain.Directions(level, 0),
            FactorKind.InPlane => FactorDomain.InPlane(level, 0),
            _ => FactorDomain.Shifts(level, 0),
        };
        var rng = new Random(11);
        var logW = Enumerable.Repeat(-Math.Log(d.Count), d.Count).ToArray();
        double bandwidth = d.Sigma[0] * (kind == FactorKind.Shift ? 1 : 0.7);
        var c = SamplingScenes.RandomCentre(d, rng);
        var logLik = SamplingScenes.LogGaussianBump(d, c.X, c.Y, c.Z, bandwidth);
        // the previous visit saw a slightly different posterior
        var cPrev = SamplingScenes.RandomCentre(d, new Random(5));
        var prev = SamplingScenes.LogGaussianBump(d, 0.8 * c.X + 0.2 * cPrev.X, 0.8 * c.Y + 0.2 * cPrev.Y, 0.8 * c.Z + 0.2 * cPrev.Z, bandwidth);
        var state = SamplingScenes.ExhaustiveState(d, logW, prev, temperature: 1.5);
        var global = new GlobalSnapshot(Enumerable.Range(0, d.Count).Select(j => 1.0 + (j % 5)).ToArray());
        double exact = Math.Exp(SamplingScenes.LogSumExp(logW.Select((w, j) => w + logLik[j]).ToArray()));

        var sampler = new FactorSampler(d);
        var ws = new SamplingWorkspace();
        var p = new ProposalParameters(0.1, 0.5, 3);
        const int reps = 2000;
        double sum = 0, sum2 = 0;
        int sampled = 0;
        for (int r = 0; r < reps; r++)
        {
            sampler.Sample(state, d, p, global, rng, ws);
            if (!ws.IsFullGrid) sampled++;
            double e = Math.Exp(SamplingScenes.LogEstimate(ws, logW, logLik));
            sum += e;
            sum2 += e * e;
        }
        Assert.Equal(reps, sampled);
        double mean = sum / reps, se = Math.Sqrt(Math.Max(0, sum2 / reps - mean * mean) / reps);
        Assert.True(se > 0, "the estimate should vary between sample sets");
        Assert.True(Math.Abs(mean - exact) < 4 * se, $"mean {mean} exact {exact} se {se}");
    }

    [Theory]
    [InlineData(FactorKind.Direction)]
    [InlineData(FactorKind.InPlane)]
    public void ChiralityFlipTreatsAPointAndItsMirrorAlike(FactorKind kind)
    {
        // a domain closed under the flip: points and their antipodes
        FactorDomain d;
        int m, mirrorOf5;
        if (kind == FactorKind.Direction)
        {
            var half = SphereQuadrature.SaffKuijlaars(400);
            var all = half.Concat(half.Select(v => new UnitVector(-v.X, -v.Y, -v.Z))).ToArray();
            d = FactorDomain.Sphere(all, 3.6 / Math.Sqrt(800), 0);
            m = 800;
            mirrorOf5 = 405;
        }
        else
        {
            var psi = Enumerable.Range(0, 60).Select(k => 2 * Math.PI * k / 60 + Math.PI / 60).ToArray();
            d = FactorDomain.Circle(psi, 2 * Math.PI / 60, 0);
            m = 60;
            mirrorOf5 = 35;
        }
        var sampler = new FactorSampler(d);
        var p = new ProposalParameters(0.05, 0, 10, ChiralityFlip: true);
        var a = new SamplingWorkspace();
        var b = new SamplingWorkspace();
        sampler.Sample(new FactorState(0, 0, [5], [1.0]), d, p, null, new Random(9), a);
        sampler.Sample(new FactorState(0, 0, [mirrorOf5], [1.0]), d, p, null, new Random(9), b);
        Assert.False(a.IsFullGrid);
        Assert.Equal(a.EffectiveSampleSize, b.EffectiveSampleSize, 9);
        // the same proposal: its kernel puts mass around both 5 and its mirror
        var qa = DenseProposal(sampler.KernelFrom(d, true), new FactorState(0, 0, [5], [1.0]), p, null);
        var qb = DenseProposal(sampler.KernelFrom(d, true), new FactorState(0, 0, [mirrorOf5], [1.0]), p, null);
        for (int j = 0; j < m; j++) Assert.Equal(qa[j], qb[j], 12);
        Assert.Equal(qa[5], qa[mirrorOf5], 12);
        // without the flip the mirror gets only the uniform share
        var q0 = DenseProposal(sampler.KernelFrom(d, false), new FactorState(0, 0, [5], [1.0]), p with { ChiralityFlip = false }, null);
        Assert.Equal(0.05 / m, q0[mirrorOf5], 12);
    }

    [Fact]
    public void ProposalCostDependsOnTheStateNotOnTheGridSize()
    {
        var evaluations = new List<long>();
        foreach (int m in new[] { 1000, 30000 })
        {
            var d = SamplingScenes.SphereDomain(m);
            var sampler = new FactorSampler(d);
            var state = new FactorState(0, 0, Enumerable.Range(0, 20).Select(k => k * 37 % m).ToArray(), Enumerable.Repeat(0.05, 20).ToArray());
            var global = GlobalSnapshot.Uniform(m);
            var ws = new SamplingWorkspace();
            sampler.Sample(state, d, Late, global, new Random(1), ws); // warm: table built, buffers sized
            ws.KernelEvaluations = 0;
            var rng = new Random(2);
            long before = GC.GetAllocatedBytesForCurrentThread();
            sampler.Sample(state, d, Late, global, rng, ws);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(0, allocated);
            evaluations.Add(ws.KernelEvaluations);
            Assert.InRange(ws.KernelEvaluations, 20, 20 * 40);
        }
        Assert.InRange((double)evaluations[1] / evaluations[0], 0.75, 1.33);
    }

    [Fact]
    public void StateFromACoarseLevelSeedsAFinerOne()
    {
        var coarse = SamplingScenes.SphereDomain(300, levelId: 0);
        var fine = SamplingScenes.SphereDomain(3000, levelId: 1);
        var state = new FactorState(0, 0, [17], [1.0]);
        var sampler = new FactorSampler(fine);
        var ws = new SamplingWorkspace();
        sampler.Sample(state, coarse, new ProposalParameters(0.05, 0, 10), null, new Random(4), ws);
        Assert.False(ws.IsFullGrid);
        // most draws land near the coarse point
        var dirsC = SphereQuadrature.SaffKuijlaars(300);
        var dirsF = SphereQuadrature.SaffKuijlaars(3000);
        int near = 0;
        for (int s = 0; s < ws.Count; s++)
            if (dirsC[17].Dot(dirsF[ws.Indices[s]]) > Math.Cos(3 * 3.6 / Math.Sqrt(300))) near++;
        Assert.True(near >= ws.Count / 3, $"{near} of {ws.Count}");
        Assert.Throws<ArgumentException>(() => sampler.Sample(state, fine, Late, null, new Random(4), ws));
    }

    [Fact]
    public void SameSeedGivesTheSameSample()
    {
        var d = SamplingScenes.SphereDomain(1000);
        var state = new FactorState(0, 0, [1, 500], [0.5, 0.5]);
        var sampler = new FactorSampler(d);
        var a = new SamplingWorkspace();
        var b = new SamplingWorkspace();
        sampler.Sample(state, d, Late, GlobalSnapshot.Uniform(1000), new Random(77), a);
        sampler.Sample(state, d, Late, GlobalSnapshot.Uniform(1000), new Random(77), b);
        Assert.Equal(a.Indices.ToArray(), b.Indices.ToArray());
        Assert.Equal(a.LogWeights.ToArray(), b.LogWeights.ToArray());
    }

    /// <summary>Brute-force q over all M points.</summary>
    internal static double[] DenseProposal(KernelTable table, FactorState state, ProposalParameters p, GlobalSnapshot? global)
    {
        int m = table.Target.Count;
        var qp = new double[m];
        double z = 0;
        for (int k = 0; k < state.Count; k++)
        {
            int i = state.Indices[k];
            var nb = table.Neighbours(i);
            var kv = table.Values(i);
            for (int e = 0; e < nb.Length; e++) qp[nb[e]] += state.Values[k] * kv[e];
            z += state.Values[k] * table.RowSum(i);
        }
        double g = global is null ? 0 : p.GlobalShare;
        var q = new double[m];
        for (int j = 0; j < m; j++)
            q[j] = (1 - p.UniformShare) * qp[j] / z + p.UniformShare * ((1 - g) / m + (g > 0 ? g * global!.Probabilities[j] : 0));
        return q;
    }
}
