using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class LipschitzLineSearchTests
{
    // f(x) = 0.5 sum_i a_i x_i^2 - sum_i b_i x_i: a diagonal quadratic whose gradient is Lipschitz with L_f = max a_i = 37.
    private static readonly double[] Curvatures = [37, 20, 9, 4, 1, 0.5, 0.1, 0.01];
    private static readonly double[] Linear = [1, -2, 0.5, 3, 0, -1, 2, 1];
    private const double TrueL = 37;

    private static double F(ReadOnlySpan<float> x)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += 0.5 * Curvatures[i] * x[i] * x[i] - Linear[i] * x[i];
        return s;
    }

    private static float[] Gradient(float[] x) => [.. x.Select((v, i) => (float)(Curvatures[i] * v - Linear[i]))];

    /// <summary>g^T A g / |g|^2: the smallest L the sufficient-decrease test accepts along g.</summary>
    private static double Rayleigh(float[] g) =>
        g.Select((v, i) => Curvatures[i] * v * v).Sum() / g.Select(v => (double)v * v).Sum();

    private static bool SufficientDecrease(float[] x, float[] g, double l)
    {
        var trial = x.Select((v, i) => (float)(v - g[i] / l)).ToArray();
        return F(x) - F(trial) >= g.Select(v => (double)v * v).Sum() / (2 * l) * (1 - 1e-6);
    }

    public static TheoryData<float[]> Points() => new(
        [1, 0, 0, 0, 0, 0, 0, 0],
        [0.3f, -1, 2, 0.5f, 4, -2, 1, 7],
        [0, 0, 0, 0, 1, 1, 1, 1],
        [0, 0.2f, 0, 0, 0, 0, 0, 0]);

    [Theory]
    [MemberData(nameof(Points))]
    public void DoublingFromOneFindsAnLThatPassesAndIsWithinAFactorTwoOfTheCurvatureBound(float[] x)
    {
        var g = Gradient(x);
        var result = LipschitzLineSearch.Search(x, double.NaN, g, 1, F, new float[x.Length], LineSearchOptions.Paper);
        Assert.True(result.Satisfied);
        Assert.True(SufficientDecrease(x, g, result.Lipschitz), $"L = {result.Lipschitz} fails the test");
        Assert.True(result.Lipschitz >= Rayleigh(g) * (1 - 1e-6), $"L = {result.Lipschitz} below the curvature along g, {Rayleigh(g)}");
        Assert.True(result.Lipschitz < 2 * Math.Max(1, Rayleigh(g)), $"L = {result.Lipschitz} more than twice the curvature along g, {Rayleigh(g)}");
        Assert.True(result.Lipschitz <= 2 * TrueL);
        // Powers of two from 1: one evaluation per L tried, plus f(x).
        int tried = (int)Math.Round(Math.Log2(result.Lipschitz)) + 1;
        Assert.Equal(tried + 1, result.Evaluations);
    }

    [Fact]
    public void AlongTheStiffestDirectionTheSearchStopsBetweenTheTrueConstantAndTwiceIt()
    {
        float[] x = [1, 0, 0, 0, 0, 0, 0, 0];
        var g = Gradient(x); // 37 x_0 - 1 along axis 0 only
        var result = LipschitzLineSearch.Search(x, F(x), g, 1, F, new float[8], LineSearchOptions.Paper);
        Assert.InRange(result.Lipschitz, TrueL, 2 * TrueL);
        Assert.Equal(64, result.Lipschitz);
        Assert.Equal(7, result.Evaluations); // 1, 2, ..., 64; f(x) was supplied
    }

    [Fact]
    public void TighteningFromAboveReturnsTheSmallestPassingL()
    {
        float[] x = [1, 0, 0, 0, 0, 0, 0, 0];
        var g = Gradient(x);
        var options = LineSearchOptions.Paper with { Tighten = true };
        var result = LipschitzLineSearch.Search(x, F(x), g, 1000, F, new float[8], options);
        Assert.True(result.Satisfied);
        Assert.Equal(62.5, result.Lipschitz); // 1000/16 passes, 1000/32 = 31.25 < 37 fails
        Assert.False(SufficientDecrease(x, g, result.Lipschitz / 2));
        // Without tightening a passing start is kept.
        Assert.Equal(1000, LipschitzLineSearch.Search(x, F(x), g, 1000, F, new float[8], LineSearchOptions.Paper).Lipschitz);
    }

    [Fact]
    public void TheReferenceEvaluatesUnprojectedTrialPointsAndTheProjectedOptionDoesNot()
    {
        float[] x = [0.01f, 0.01f, 1, 1, 1, 1, 1, 1];
        var g = Gradient(x);
        Assert.True(x[1] - g[1] / 64 < 0); // the trial points the search will visit leave the positive orthant
        float lowest = float.MaxValue;
        double Recording(ReadOnlySpan<float> p)
        {
            foreach (float v in p) lowest = Math.Min(lowest, v);
            return F(p);
        }
        LipschitzLineSearch.Search(x, F(x), g, 1, Recording, new float[8], LineSearchOptions.Paper, constraint: new DensityConstraint(0, null));
        Assert.True(lowest < 0);

        lowest = float.MaxValue;
        var projected = LipschitzLineSearch.Search(x, F(x), g, 1, Recording, new float[8], LineSearchOptions.Paper with { ProjectTrialPoint = true }, constraint: new DensityConstraint(0, null));
        Assert.True(lowest >= 0);
        Assert.True(projected.Satisfied);
        // The projected test: f(x+) <= f(x) + g.(x+ - x) + L/2 |x+ - x|^2 at the returned L.
        var plus = x.Select((v, i) => Math.Max(0f, (float)(v - g[i] / projected.Lipschitz))).ToArray();
        double along = 0, squared = 0;
        for (int i = 0; i < 8; i++)
        {
            along += ((double)plus[i] - x[i]) * g[i];
            squared += ((double)plus[i] - x[i]) * (plus[i] - x[i]);
        }
        Assert.True(F(plus) <= F(x) + along + 0.5 * projected.Lipschitz * squared + 1e-9);
    }

    [Fact]
    public void AZeroGradientNeedsNoEvaluation()
    {
        var result = LipschitzLineSearch.Search(new float[3], double.NaN, new float[3], 5, _ => throw new InvalidOperationException("evaluated"), new float[3], LineSearchOptions.Paper);
        Assert.Equal(new LineSearchResult(5, 0, true), result);
    }

    [Fact]
    public void ANonFiniteTrialValueCountsAsFailure()
    {
        float[] x = [1], g = [1];
        double Guarded(ReadOnlySpan<float> p) => p[0] < 0.5f ? double.PositiveInfinity : 0.5 * p[0] * p[0];
        var result = LipschitzLineSearch.Search(x, 0.5, g, 1, Guarded, new float[1], LineSearchOptions.Paper);
        Assert.Equal(2, result.Lipschitz); // x - g/1 = 0 is "infinite"; x - g/2 = 0.5 passes
    }

    [Fact]
    public void TheEvaluationCapEndsAFailingSearchUnsatisfied()
    {
        float[] x = [1], g = [1];
        var options = LineSearchOptions.Paper with { MaxEvaluations = 4 };
        var result = LipschitzLineSearch.Search(x, 0, g, 1, _ => 1, new float[1], options);
        Assert.Equal(new LineSearchResult(8, 4, false), result);
    }

    [Fact]
    public void InvalidOptionsNameTheirMember()
    {
        Assert.Equal("growth", Assert.Throws<InvalidSettingException>(() => (LineSearchOptions.Paper with { Growth = 1 }).Validate()).Field);
        Assert.Equal("decayPerIteration", Assert.Throws<InvalidSettingException>(() => (LineSearchOptions.Paper with { DecayPerIteration = 1.5 }).Validate()).Field);
        Assert.Equal("initialLipschitz", Assert.Throws<InvalidSettingException>(() => (LineSearchOptions.Paper with { InitialLipschitz = 0 }).Validate()).Field);
        Assert.Equal("maxEvaluations", Assert.Throws<InvalidSettingException>(() => (LineSearchOptions.Paper with { MaxEvaluations = 0 }).Validate()).Field);
    }
}

public class LipschitzEstimateTests
{
    private static (bool Searched, LineSearchResult Result) Update(LipschitzEstimate e, int tau, bool changed = false, MinibatchObjective? f = null)
    {
        float[] x = [1], g = [3];
        // f(x) = 0.5 c x^2 with c = 3 at x = 1: any L >= 3 passes, so doubling from 1 stops at 4.
        return e.Update(tau, changed, x, 1.5, g, f ?? (p => 1.5 * p[0] * p[0]), new float[1], new DensityConstraint(0, null));
    }

    [Fact]
    public void SearchesAtTheFirstIterationThenEveryTwentyAndDecaysInBetween()
    {
        var e = new LipschitzEstimate(LineSearchOptions.Paper);
        Assert.Equal(1, e.Value);
        var searched = new List<int>();
        var values = new List<double>();
        for (int tau = 0; tau < 61; tau++)
        {
            if (Update(e, tau).Searched) searched.Add(tau);
            values.Add(e.Value);
        }
        Assert.Equal([0, 20, 40, 60], searched);
        Assert.Equal(4, values[0]);
        for (int tau = 1; tau < 20; tau++) Assert.Equal(4 * Math.Pow(2, -tau / 150.0), values[tau], 12);
        // At tau = 20, L has decayed to 4 * 2^(-20/150) = 3.64, which still passes and is kept.
        Assert.Equal(4 * Math.Pow(2, -20 / 150.0), values[20], 12);
    }

    [Fact]
    public void AChangeOfMaxFrequencyForcesASearch()
    {
        var e = new LipschitzEstimate(LineSearchOptions.Paper);
        Update(e, 0);
        Assert.False(Update(e, 1).Searched);
        Assert.True(Update(e, 2, changed: true).Searched);
        Assert.False(new LipschitzEstimate(LineSearchOptions.Paper with { OnMaxFrequencyChange = false }) { LastSearch = 0, LastUpdate = 0 }.IsSearchDue(2, true));
    }

    [Fact]
    public void WithoutAnIntervalLIsSearchedOnlyFirstAndWhenMaxFrequencyChanges()
    {
        var e = new LipschitzEstimate(LineSearchOptions.Paper with { Interval = null });
        var searched = Enumerable.Range(0, 500).Where(tau => Update(e, tau, changed: tau == 300).Searched).ToList();
        Assert.Equal([0, 300], searched);
    }

    [Fact]
    public void DecayIsCountedInIterationsSoSkippedCallsDecayAsMuch()
    {
        var e = new LipschitzEstimate(LineSearchOptions.Paper);
        Update(e, 0);
        Update(e, 5);
        Assert.Equal(4 * Math.Pow(2, -5 / 150.0), e.Value, 12);
    }

    [Fact]
    public void WithoutAnObjectiveLIsLeftAlone()
    {
        var e = new LipschitzEstimate(LineSearchOptions.Paper);
        float[] x = [1], g = [1];
        for (int tau = 0; tau < 30; tau++) Assert.False(e.Update(tau, tau == 10, x, 1, g, null, new float[1], new DensityConstraint(0, null)).Searched);
        Assert.Equal(1, e.Value);
    }

    [Fact]
    public void TheReferenceCadenceSearchesEveryFiveIterationsWithoutDecay()
    {
        var e = new LipschitzEstimate(LineSearchOptions.Reference);
        var searched = Enumerable.Range(0, 16).Where(tau => Update(e, tau).Searched).ToList();
        Assert.Equal([0, 5, 10, 15], searched);
        Assert.Equal(4, e.Value); // tight: 4 passes, 2 does not; no decay in between
    }
}
