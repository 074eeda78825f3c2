using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class DensityConstraintTests
{
    private const int D = 16;

    private static double Radius(int i)
    {
        int x = i % D, y = i / D % D, z = i / (D * D);
        return Math.Sqrt((x - D / 2.0) * (x - D / 2.0) + (y - D / 2.0) * (y - D / 2.0) + (z - D / 2.0) * (z - D / 2.0));
    }

    [Fact]
    public void TheSupportMaskIsOneInsideZeroBeyondTheEdgeAndACosineOnIt()
    {
        var s = new SphericalSupport(D, 4, 2);
        for (int i = 0; i < s.Length; i++)
        {
            double r = Radius(i), expected = r <= 4 ? 1 : r >= 6 ? 0 : 0.5 * (1 + Math.Cos(Math.PI * (r - 4) / 2));
            Assert.Equal(expected, s.Mask[i], 6);
        }
        // voxel (D/2 + 5, D/2, D/2) is half way along the edge
        Assert.Equal(0.5, s.Mask[(D / 2 * D + D / 2) * D + D / 2 + 5], 6);
        Assert.Equal(0, new SphericalSupport(D, 4, 0).Mask[(D / 2 * D + D / 2) * D + D / 2 + 5]);
        Assert.Throws<InvalidSettingException>(() => new SphericalSupport(D, 0, 2));
        Assert.Throws<InvalidSettingException>(() => new SphericalSupport(D, 4, -1));
    }

    [Fact]
    public void EveryOptimiserMasksThenClampsAfterItsStep()
    {
        var support = new SphericalSupport(D, 4, 2);
        int n = D * D * D;
        var g = new float[n];
        for (int i = 0; i < n; i++) g[i] = i % 3 == 0 ? 4 : -4; // the step (0.25) moves 1 down or 1 up
        var lineSearch = new LineSearchOptions { InitialLipschitz = 2 };
        var scale = new Schedule.Constant(0.5);
        // (options, length of the first unconstrained move): Nesterov's first step is (1 + beta) times the others'
        (OptimiserOptions, double)[] all =
        [
            (new SagdOptions { StepScale = scale, LineSearch = lineSearch, Support = support }, 1),
            (new SgdOptions { StepScale = scale, LineSearch = lineSearch, Support = support }, 1),
            (new MomentumOptions { StepScale = scale, LineSearch = lineSearch, Momentum = new Schedule.Constant(0.9), Support = support }, 1),
            (new NesterovOptions { StepScale = scale, LineSearch = lineSearch, Momentum = new Schedule.Constant(0.9), Support = support }, 1.9),
        ];
        foreach (var (options, move) in all)
        {
            var v = Enumerable.Repeat(0.5f, n).ToArray();
            options.Create(n, 1).Step(new OptimiserContext { Iteration = 0, Batch = 0, Volume = v, DataGradient = g });
            for (int i = 0; i < n; i++)
            {
                // unconstrained: 0.5 - move or 0.5 + move; masked once, then clamped at 0
                double expected = Math.Max(0, (i % 3 == 0 ? 0.5 - move : 0.5 + move) * support.Mask[i]);
                Assert.True(Math.Abs(v[i] - expected) < 1e-6, $"{options.GetType().Name}: voxel {i} (r = {Radius(i):F2}) is {v[i]}, expected {expected}");
            }
        }
        // the signed case: no clamp, the mask alone
        var signed = Enumerable.Repeat(0.5f, n).ToArray();
        new SagdOptions { StepScale = scale, LineSearch = lineSearch, LowerBound = null, Support = support }.Create(n, 1)
            .Step(new OptimiserContext { Iteration = 0, Batch = 0, Volume = signed, DataGradient = g });
        int inside = Enumerable.Range(0, n).First(i => i % 3 == 0 && Radius(i) < 4);
        Assert.Equal(-0.5f, signed[inside], 6);
    }

    [Fact]
    public void AMaskOfTheWrongSizeIsRefused()
    {
        var support = new SphericalSupport(8, 2, 1);
        Assert.Throws<ArgumentException>(() => new SagdOptions { Support = support }.Create(D * D * D, 1));
    }

    [Fact]
    public void TheProjectedLineSearchSeesTheMaskedTrialPoint()
    {
        // f(v) = 0.5 |v - t|^2 with t nonzero only outside the mask: an unprojected trial point moves towards t, a
        // projected one cannot, and the projected test is evaluated at the masked point
        var support = new SphericalSupport(D, 3, 0);
        int n = D * D * D;
        var t = new float[n];
        for (int i = 0; i < n; i++) t[i] = support.Mask[i] == 0 ? 1 : 0;
        double F(ReadOnlySpan<float> v)
        {
            double s = 0;
            for (int i = 0; i < v.Length; i++) s += 0.5 * (v[i] - t[i]) * (v[i] - t[i]);
            return s;
        }
        var seen = new List<float[]>();
        double Recording(ReadOnlySpan<float> v)
        {
            seen.Add(v.ToArray());
            return F(v);
        }
        var x = new float[n];
        var grad = t.Select(v => -v).ToArray();
        LipschitzLineSearch.Search(x, F(x), grad, 1, Recording, new float[n], LineSearchOptions.Paper with { ProjectTrialPoint = true },
            new DensityConstraint(null, support));
        Assert.NotEmpty(seen);
        foreach (var trial in seen)
            for (int i = 0; i < n; i++)
                if (support.Mask[i] == 0) Assert.Equal(0, trial[i]);
    }
}
