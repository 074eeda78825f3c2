using CryoFlow.Numerics.Likelihood;

namespace CryoFlow.Numerics.Tests.Likelihood;

public class MarginalLikelihoodKernelTests
{
    // N_k around the SIMD width (8) and the GEMM k-chunk; N_d around the 4-row tile of the cross
    // GEMM; N_p N_t odd and even rows for its 2-row tile.
    public static TheoryData<int> PointCounts => new() { 0, 1, 7, 8, 9, 33, 500 };

    private static void AssertClose(double expected, double actual, double tol, string what)
    {
        double scale = Math.Max(1, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tol * scale, $"{what}: expected {expected:R}, got {actual:R} (tol {tol} x {scale:G3})");
    }

    [Theory]
    [MemberData(nameof(PointCounts))]
    public void MarginalLikelihoodAndPosteriorMatchBruteForceOverEveryPose(int nk)
    {
        int[] counts = [1, 2, 3, 5];
        using var ws = new KernelWorkspace(new KernelCapacity(nk, 5, 5, 5, 32));
        int seed = 100 * nk;
        foreach (int nd in counts)
            foreach (int np in counts)
                foreach (int nt in counts)
                {
                    var prob = LikelihoodProblem.Random(nk, nd, np, nt, seed++);
                    var (r, pd, pp, pt, _, _) = prob.Run(ws, gradient: false);
                    var n = prob.Naive();
                    string at = $"nk {nk} nd {nd} np {np} nt {nt}";
                    AssertClose(n.LogLikelihood, r.LogLikelihood, 1e-5, "LL " + at);
                    AssertClose(n.ExpectedSquaredError, r.ExpectedSquaredError, 1e-5, "expected error " + at);
                    AssertMarginals(n, pd, pp, pt, at);
                    // The argmax: the kernel's choice must be the most probable pose of the reference
                    // (or tie with it to within float rounding of ll).
                    var b = r.Best;
                    Assert.True(n.Gamma[b.Direction, b.InPlane, b.Shift] >= n.BestProbability * (1 - 1e-5), $"argmax {b} vs {n.Best} {at}");
                    Assert.Equal(n.BestProbability, r.BestProbability, 1e-5);
                    Assert.Equal((long)nd * np * nt, r.EvaluatedPoses);
                }
    }

    private static void AssertMarginals(LikelihoodProblem.Reference n, double[] pd, double[] pp, double[] pt, string at)
    {
        foreach (var (exp, act, name) in new[] { (n.PostD, pd, "d"), (n.PostP, pp, "p"), (n.PostT, pt, "t") })
        {
            Assert.Equal(1.0, act.Sum(), 1e-9);
            for (int i = 0; i < exp.Length; i++)
                Assert.True(Math.Abs(exp[i] - act[i]) < 1e-5, $"marginal {name}[{i}] {exp[i]} vs {act[i]} {at}");
        }
    }

    [Theory]
    [InlineData(1100, 5, 3, 3)]   // three k-panels, the last one with a tail
    [InlineData(513, 9, 2, 1)]    // one point past a panel; N_d past two 4-row tiles
    [InlineData(33, 17, 3, 7)]    // 21 (p,t) rows; 17 directions
    public void LargerAndPanelCrossingSizesMatchBruteForce(int nk, int nd, int np, int nt)
    {
        var prob = LikelihoodProblem.Random(nk, nd, np, nt, seed: nk + nd);
        using var ws = new KernelWorkspace(prob.Capacity);
        var (r, pd, pp, pt, gr, gi) = prob.Run(ws);
        var n = prob.Naive();
        AssertClose(n.LogLikelihood, r.LogLikelihood, 1e-5, "LL");
        AssertMarginals(n, pd, pp, pt, $"{nk}/{nd}/{np}/{nt}");
        AssertGradientMatches(n, gr, gi, 2e-4);
    }

    private static void AssertGradientMatches(LikelihoodProblem.Reference n, float[] gr, float[] gi, double tol)
    {
        double scale = 0;
        for (int i = 0; i < n.GRe.Length; i++) scale = Math.Max(scale, Math.Max(Math.Abs(n.GRe[i]), Math.Abs(n.GIm[i])));
        for (int i = 0; i < n.GRe.Length; i++)
        {
            Assert.True(Math.Abs(n.GRe[i] - gr[i]) <= tol * scale, $"Re G[{i}] {n.GRe[i]} vs {gr[i]} (scale {scale})");
            Assert.True(Math.Abs(n.GIm[i] - gi[i]) <= tol * scale, $"Im G[{i}] {n.GIm[i]} vs {gi[i]} (scale {scale})");
        }
    }

    [Theory]
    [MemberData(nameof(PointCounts))]
    public void GradientMatchesTheBruteForceFormula(int nk)
    {
        using var ws = new KernelWorkspace(new KernelCapacity(nk, 5, 5, 5, 32));
        foreach (var (nd, np, nt) in new[] { (1, 1, 1), (2, 3, 5), (5, 2, 3), (3, 5, 2), (5, 5, 5) })
        {
            var prob = LikelihoodProblem.Random(nk, nd, np, nt, seed: 7 * nk + nd, sigma2: 0.7);
            var (_, _, _, _, gr, gi) = prob.Run(ws);
            AssertGradientMatches(prob.Naive(), gr, gi, 1e-4);
        }
    }

    [Theory]
    [InlineData(33, 3, 2, 3, 11)]
    [InlineData(9, 5, 3, 2, 12)]
    [InlineData(500, 2, 3, 3, 13)]
    public void GradientMatchesCentralFiniteDifferencesOfTheLikelihood(int nk, int nd, int np, int nt, int seed)
    {
        // Scaled so that several poses carry weight: neither flat nor a delta.
        var prob = LikelihoodProblem.Random(nk, nd, np, nt, seed, sliceScale: 0.6, sigma2: 1.3);
        var naive = prob.Naive();
        double[] gammas = naive.Gamma.Cast<double>().ToArray();
        double effective = 1 / gammas.Sum(g => g * g);
        Assert.True(naive.BestProbability < 0.95 && effective > 1.5 && effective < 0.9 * gammas.Length,
            $"test data should spread the posterior: best {naive.BestProbability:G3}, effective poses {effective:G3} of {gammas.Length}");

        using var ws = new KernelWorkspace(prob.Capacity);
        var (_, _, _, _, gr, gi) = prob.Run(ws);
        var rng = new Random(seed);
        double[] sRe = prob.SRe.Select(v => (double)v).ToArray(), sIm = prob.SIm.Select(v => (double)v).ToArray();
        const double h = 1e-5;
        double gScale = gr.Concat(gi).Max(v => Math.Abs((double)v));
        for (int trial = 0; trial < 12; trial++)
        {
            int idx = rng.Next(nd * nk);
            foreach (bool imag in new[] { false, true })
            {
                double[] s = imag ? sIm : sRe;
                double keep = s[idx];
                s[idx] = keep + h;
                double plus = prob.Naive(sRe, sIm).LogLikelihood;
                s[idx] = keep - h;
                double minus = prob.Naive(sRe, sIm).LogLikelihood;
                s[idx] = keep;
                double fd = (plus - minus) / (2 * h);
                double g = imag ? gi[idx] : gr[idx];
                double rel = Math.Abs(g - fd) / Math.Max(Math.Abs(fd), 0.05 * gScale);
                Assert.True(rel < 1e-3, $"{(imag ? "Im" : "Re")} S[{idx}]: kernel {g:R}, central difference {fd:R}, relative error {rel:G3}");
            }
        }
    }

    [Fact]
    public void GradientMatchesFiniteDifferencesOfTheKernelsOwnFloatLikelihood()
    {
        // Steps exactly representable next to the float slice values, large enough to rise above
        // the float rounding of ll.
        var prob = LikelihoodProblem.Random(40, 3, 2, 3, seed: 21, sliceScale: 0.6);
        using var ws = new KernelWorkspace(prob.Capacity);
        var (_, _, _, _, gr, gi) = prob.Run(ws);
        const float h = 1f / 256;
        double gScale = gr.Concat(gi).Max(v => Math.Abs((double)v));
        var rng = new Random(5);
        for (int trial = 0; trial < 10; trial++)
        {
            int idx = rng.Next(prob.SRe.Length);
            foreach (var s in new[] { prob.SRe, prob.SIm })
            {
                float keep = s[idx];
                s[idx] = keep + h;
                double plus = MarginalLikelihoodKernel.EvaluateLikelihood(prob.Inputs(), ws).LogLikelihood;
                s[idx] = keep - h;
                double minus = MarginalLikelihoodKernel.EvaluateLikelihood(prob.Inputs(), ws).LogLikelihood;
                s[idx] = keep;
                double fd = (plus - minus) / (2.0 * h);
                double g = ReferenceEquals(s, prob.SRe) ? gr[idx] : gi[idx];
                Assert.True(Math.Abs(g - fd) <= 1e-2 * Math.Max(Math.Abs(fd), 0.05 * gScale), $"S[{idx}]: kernel {g}, float central difference {fd}");
            }
        }
    }

    [Fact]
    public void ScalarAndSimdPathsAgree()
    {
        foreach (var (nk, nd, np, nt) in new[] { (9, 5, 3, 2), (500, 7, 2, 5), (1100, 3, 1, 3) })
        {
            var prob = LikelihoodProblem.Random(nk, nd, np, nt, seed: nk);
            using var fast = new KernelWorkspace(prob.Capacity);
            using var slow = new KernelWorkspace(prob.Capacity) { ForceScalar = true };
            var a = prob.Run(fast);
            var b = prob.Run(slow);
            AssertClose(b.Result.LogLikelihood, a.Result.LogLikelihood, 1e-6, "LL");
            Assert.Equal(b.Result.Best, a.Result.Best);
            for (int i = 0; i < nd; i++) Assert.Equal(b.PostD[i], a.PostD[i], 1e-6);
            double scale = b.GRe.Concat(b.GIm).Max(v => Math.Abs((double)v));
            for (int i = 0; i < b.GRe.Length; i++)
            {
                Assert.True(Math.Abs(a.GRe[i] - b.GRe[i]) <= 1e-5 * scale);
                Assert.True(Math.Abs(a.GIm[i] - b.GIm[i]) <= 1e-5 * scale);
            }
        }
    }

    [Fact]
    public void LikelihoodOnlyPathGivesTheSameLikelihoodAndPosterior()
    {
        var prob = LikelihoodProblem.Random(77, 5, 3, 4, seed: 3);
        using var ws = new KernelWorkspace(prob.Capacity);
        var full = prob.Run(ws, gradient: true);
        var only = prob.Run(ws, gradient: false);
        Assert.Equal(full.Result.LogLikelihood, only.Result.LogLikelihood);
        Assert.Equal(full.PostD, only.PostD);
        Assert.Equal(0, only.Result.GradientRows);
        Assert.Equal(12, full.Result.GradientRows);
        var bare = MarginalLikelihoodKernel.EvaluateLikelihood(prob.Inputs(), ws);
        Assert.Equal(full.Result.LogLikelihood, bare.LogLikelihood);
        Assert.Equal(full.Result.Best, bare.Best);
    }

    [Fact]
    public void ExcludedPosesWithMinusInfinityLogWeightsDropOutWithoutNaN()
    {
        var prob = LikelihoodProblem.Random(33, 5, 3, 5, seed: 8);
        prob.LwD[1] = double.NegativeInfinity;
        prob.LwP[0] = double.NegativeInfinity;
        prob.LwT[4] = double.NegativeInfinity;
        prob.LwT[2] = -1e5; // very negative but finite: a weight of exp(-1e5) underflows to 0
        using var ws = new KernelWorkspace(prob.Capacity);
        var (r, pd, pp, pt, gr, gi) = prob.Run(ws);
        var n = prob.Naive();
        AssertClose(n.LogLikelihood, r.LogLikelihood, 1e-5, "LL");
        AssertMarginals(n, pd, pp, pt, "excluded");
        Assert.Equal(0.0, pd[1]);
        Assert.Equal(0.0, pp[0]);
        Assert.Equal(0.0, pt[4]);
        Assert.Equal(0.0, pt[2]);
        Assert.All(gr.Concat(gi), v => Assert.True(float.IsFinite(v)));
        AssertGradientMatches(n, gr, gi, 1e-4);
        Assert.All(gr.AsSpan(1 * 33, 33).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void HugeCommonLogWeightOffsetsShiftTheLikelihoodOnly()
    {
        var prob = LikelihoodProblem.Random(33, 3, 2, 3, seed: 9);
        using var ws = new KernelWorkspace(prob.Capacity);
        var baseRun = prob.Run(ws);
        for (int i = 0; i < prob.LwD.Length; i++) prob.LwD[i] -= 1e6;
        for (int i = 0; i < prob.LwT.Length; i++) prob.LwT[i] += 3e5;
        var shifted = prob.Run(ws);
        Assert.Equal(baseRun.Result.LogLikelihood - 7e5, shifted.Result.LogLikelihood, 1e-6);
        for (int i = 0; i < baseRun.PostD.Length; i++) Assert.Equal(baseRun.PostD[i], shifted.PostD[i], 1e-9);
        for (int i = 0; i < baseRun.GRe.Length; i++) Assert.Equal(baseRun.GRe[i], shifted.GRe[i], 1e-5f);
    }

    [Fact]
    public void EveryPoseExcludedGivesMinusInfinityAndZeroOutputs()
    {
        var prob = LikelihoodProblem.Random(9, 3, 2, 2, seed: 4);
        prob.LwP[0] = prob.LwP[1] = double.NegativeInfinity;
        using var ws = new KernelWorkspace(prob.Capacity);
        var (r, pd, pp, pt, gr, gi) = prob.Run(ws);
        Assert.Equal(double.NegativeInfinity, r.LogLikelihood);
        Assert.Equal(PoseIndex.None, r.Best);
        Assert.All(pd.Concat(pp).Concat(pt), v => Assert.Equal(0.0, v));
        Assert.All(gr.Concat(gi), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void NoFourierPointsLeavesOnlyTheLogWeights()
    {
        var prob = LikelihoodProblem.Random(0, 3, 2, 4, seed: 5);
        var r = prob.Run();
        double lse = Math.Log(prob.LwD.Sum(Math.Exp) * prob.LwP.Sum(Math.Exp) * prob.LwT.Sum(Math.Exp));
        Assert.Equal(lse, r.LogLikelihood, 1e-12);
        Assert.Equal(0, r.ExpectedSquaredError);
    }

    [Fact]
    public void NoPosesGivesMinusInfinity()
    {
        var prob = LikelihoodProblem.Random(9, 0, 2, 2, seed: 6);
        var r = prob.Run();
        Assert.Equal(double.NegativeInfinity, r.LogLikelihood);
        Assert.Equal(PoseIndex.None, r.Best);
        Assert.Equal(0, r.EvaluatedPoses);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void RejectsNaNAndPlusInfinityLogWeights(double bad)
    {
        var prob = LikelihoodProblem.Random(9, 2, 2, 2, seed: 6);
        prob.LwT[1] = bad;
        using var ws = new KernelWorkspace(prob.Capacity);
        Assert.Throws<ArgumentException>(() => MarginalLikelihoodKernel.EvaluateLikelihood(prob.Inputs(), ws));
    }

    [Fact]
    public void RejectsMismatchedLengthsAndSizesBeyondCapacity()
    {
        var prob = LikelihoodProblem.Random(9, 2, 2, 2, seed: 6);
        using var small = new KernelWorkspace(new KernelCapacity(8, 2, 2, 2, 32));
        Assert.Throws<ArgumentException>(() => MarginalLikelihoodKernel.EvaluateLikelihood(prob.Inputs(), small));
        using var ws = new KernelWorkspace(prob.Capacity);
        prob.C = prob.C[..^1];
        Assert.Throws<ArgumentException>(() => MarginalLikelihoodKernel.EvaluateLikelihood(prob.Inputs(), ws));
        var ok = LikelihoodProblem.Random(9, 2, 2, 2, seed: 6);
        Assert.Throws<ArgumentException>(() =>
        {
            var output = new KernelOutputs { GradientRe = new float[18], GradientIm = new float[17] };
            MarginalLikelihoodKernel.Evaluate(ok.Inputs(), ws, output);
        });
        Assert.Throws<ArgumentException>(() =>
        {
            var output = new KernelOutputs { PosteriorShift = new double[3] };
            MarginalLikelihoodKernel.Evaluate(ok.Inputs(), ws, output);
        });
    }

    [Fact]
    public void WorkspaceReusedAcrossSizesAndShiftsGivesFreshResults()
    {
        var big = LikelihoodProblem.Random(300, 5, 4, 6, seed: 31);
        var small = LikelihoodProblem.Random(17, 2, 3, 6, seed: 32);
        using var ws = new KernelWorkspace(big.Capacity);
        var first = big.Run(ws);
        small.Run(ws);
        // same coordinates and shift count, new shift values in the same arrays: the phase cache must notice
        var again = big.Run(ws);
        Assert.Equal(first.Result.LogLikelihood, again.Result.LogLikelihood);
        big.Tx[2] += 0.5f;
        var moved = big.Run(ws);
        using var fresh = new KernelWorkspace(big.Capacity);
        Assert.Equal(big.Run(fresh).Result.LogLikelihood, moved.Result.LogLikelihood);
        Assert.NotEqual(first.Result.LogLikelihood, moved.Result.LogLikelihood);
        AssertClose(big.Naive().LogLikelihood, moved.Result.LogLikelihood, 1e-5, "LL after shift change");
    }

    [Fact]
    public void WorkspacesOnParallelThreadsGiveTheSequentialResults()
    {
        var probs = Enumerable.Range(0, 6).Select(i => LikelihoodProblem.Random(200, 4, 3, 3, seed: 50 + i)).ToArray();
        var sequential = probs.Select(p => p.Run().LogLikelihood).ToArray();
        var parallel = new double[probs.Length];
        Parallel.For(0, probs.Length, new ParallelOptions { MaxDegreeOfParallelism = 3 }, i => parallel[i] = probs[i].Run().LogLikelihood);
        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public void DisposedWorkspaceIsRefused()
    {
        var prob = LikelihoodProblem.Random(9, 2, 2, 2, seed: 6);
        var ws = new KernelWorkspace(prob.Capacity);
        ws.Dispose();
        ws.Dispose();
        Assert.Throws<ObjectDisposedException>(() => MarginalLikelihoodKernel.EvaluateLikelihood(prob.Inputs(), ws));
    }

    [Fact]
    public void FlopCountsAreTwoFmasPerRealPartMultiplyAddAndEightFlopsPerComplexOneEquivalent()
    {
        Assert.Equal(4L * 400 * 64 * 2500 + 2L * 16 * 64 * 2500, MarginalLikelihoodKernel.GemmFlops(2500, 64, 16, 25, gradient: false));
        Assert.Equal(8L * 400 * 64 * 2500 + 4L * 16 * 64 * 2500, MarginalLikelihoodKernel.GemmFlops(2500, 64, 16, 25, gradient: true));
        Assert.Equal(8L * 400 * 64 * 2500 + 2L * 16 * 64 * 2500, MarginalLikelihoodKernel.ComplexEquivalentFlops(2500, 64, 16, 25, gradient: false));
    }
}
