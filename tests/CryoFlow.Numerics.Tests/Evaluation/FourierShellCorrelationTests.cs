using CryoFlow.Numerics.Evaluation;
using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Tests.Evaluation;

public class FourierShellCorrelationTests
{
    private const int D = 32;

    private static float[] RandomSmoothVolume(int seed)
    {
        var rng = new Random(seed);
        var v = new float[D * D * D];
        for (int blob = 0; blob < 12; blob++)
        {
            double cx = D / 2 + (rng.NextDouble() - 0.5) * D / 2, cy = D / 2 + (rng.NextDouble() - 0.5) * D / 2, cz = D / 2 + (rng.NextDouble() - 0.5) * D / 2;
            double s2 = 2 * Math.Pow(1 + 2 * rng.NextDouble(), 2);
            for (int z = 0; z < D; z++)
                for (int y = 0; y < D; y++)
                    for (int x = 0; x < D; x++)
                        v[(z * D + y) * D + x] += (float)Math.Exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy) + (z - cz) * (z - cz)) / s2);
        }
        return v;
    }

    [Fact]
    public void IdenticalMapsCorrelatePerfectlyInEveryShell()
    {
        var a = RandomSmoothVolume(1);
        var fsc = FourierShellCorrelation.Compute(a, a, D, 2.0);
        Assert.Equal(D / 2 + 1, fsc.Shells.Count);
        foreach (var s in fsc.Shells) Assert.Equal(1.0, s.Correlation, 5);
        Assert.Equal(4.0, fsc.ResolutionAt(0.5), 9); // never crosses: Nyquist
    }

    [Fact]
    public void NegatedMapAnticorrelatesAndScaledMapDoesNotMatter()
    {
        var a = RandomSmoothVolume(2);
        var neg = a.Select(x => -x).ToArray();
        var scaled = a.Select(x => 3.5f * x).ToArray();
        Assert.All(FourierShellCorrelation.Compute(a, neg, D, 1.0).Shells, s => Assert.Equal(-1.0, s.Correlation, 5));
        Assert.All(FourierShellCorrelation.Compute(a, scaled, D, 1.0).Shells, s => Assert.Equal(1.0, s.Correlation, 5));
    }

    [Fact]
    public void LowPassedCopyLosesCorrelationExactlyBeyondItsCutoff()
    {
        var a = RandomSmoothVolume(3);
        var rng = new Random(4);
        for (int i = 0; i < a.Length; i++) a[i] += (float)(rng.NextDouble() - 0.5); // white content in every shell
        var plan = FftBackends.Managed.Plan3D(D);
        var f = new float[plan.ComplexLength];
        plan.Forward(a, f);
        int h = D / 2 + 1, cutoff = 9;
        for (int rz = 0; rz < D; rz++)
            for (int ry = 0; ry < D; ry++)
                for (int kx = 0; kx < h; kx++)
                {
                    int kz = FourierLayout.FrequencyOfRow(rz, D), ky = FourierLayout.FrequencyOfRow(ry, D);
                    if (Math.Round(Math.Sqrt(kx * kx + ky * ky + kz * kz)) > cutoff)
                    {
                        int i = 2 * ((rz * D + ry) * h + kx);
                        f[i] = 0; f[i + 1] = 0;
                    }
                }
        var b = new float[a.Length];
        plan.Inverse(f, b);
        var fsc = FourierShellCorrelation.Compute(a, b, D, 3.0);
        for (int s = 1; s <= cutoff; s++) Assert.True(fsc.Shells[s].Correlation > 0.999, $"shell {s}: {fsc.Shells[s].Correlation}");
        // beyond the cutoff b holds only float round-off, uncorrelated with a: |FSC| ~ 1/sqrt(coefficients)
        for (int s = cutoff + 1; s <= D / 2; s++)
            Assert.True(Math.Abs(fsc.Shells[s].Correlation) < 5 / Math.Sqrt(fsc.Shells[s].Coefficients), $"shell {s}: {fsc.Shells[s].Correlation}");
        // the 0.5 crossing lies between shells 9 and 10: 3 A * 32 / 9.x
        double res = fsc.ResolutionAt(0.5);
        Assert.InRange(res, 3.0 * D / 10, 3.0 * D / 9);
    }

    [Fact]
    public void IndependentNoiseMapsBarelyCorrelate()
    {
        var rng = new Random(5);
        var a = Enumerable.Range(0, D * D * D).Select(_ => (float)rng.NextDouble()).ToArray();
        var b = Enumerable.Range(0, D * D * D).Select(_ => (float)rng.NextDouble()).ToArray();
        var fsc = FourierShellCorrelation.Compute(a, b, D, 1.0);
        // shell 0 is the (shared positive) mean; beyond that |FSC| ~ 1/sqrt(coefficients)
        for (int s = 3; s <= D / 2; s++)
            Assert.True(Math.Abs(fsc.Shells[s].Correlation) < 5 / Math.Sqrt(fsc.Shells[s].Coefficients), $"shell {s}");
        long total = fsc.Shells.Sum(s => s.Coefficients);
        Assert.True(total < (long)D * D * D && total > D * D * D / 2);
    }

    [Fact]
    public void ResolutionIgnoresALowFrequencyDipBeforeTheCurveReachesTheThreshold()
    {
        double[] c = [1, 0.45, 0.62, 0.9, 0.8, 0.7, 0.4, 0.2, 0.1];
        var curve = new FscCurve(16, 2.0, c.Select((v, i) => new FscShell(i, i / 32.0, v, 10)).ToArray());
        // crosses 0.5 between shells 5 (0.7) and 6 (0.4): at shell 5 + 2/3
        Assert.Equal(32 / (5 + 2.0 / 3), curve.ResolutionAt(0.5), 9);
        // never reaches 0.95 after shell 0: the lowest resolution
        Assert.Equal(32.0, curve.ResolutionAt(0.95), 9);
        // never falls below 0.05: Nyquist
        Assert.Equal(4.0, curve.ResolutionAt(0.05), 9);
        // a single low shell at the threshold before the dip does not start the curve
        double[] d = [1, 0.5, 0.41, 0.65, 0.86, 0.7, 0.3, 0.1, 0.0];
        var dipped = new FscCurve(16, 2.0, d.Select((v, i) => new FscShell(i, i / 32.0, v, 10)).ToArray());
        Assert.Equal(32 / (5 + 0.5), dipped.ResolutionAt(0.5), 9);
    }
}
