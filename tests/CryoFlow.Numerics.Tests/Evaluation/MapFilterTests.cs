using CryoFlow.Numerics.Evaluation;
using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Tests.Evaluation;

public class MapFilterTests
{
    private const int D = 16;
    private const double Apix = 2.5;

    private static float[] RandomVolume(int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, D * D * D).Select(_ => (float)(rng.NextDouble() - 0.3)).ToArray();
    }

    [Fact]
    public void ZeroBFactorReturnsACopy()
    {
        var v = RandomVolume(1);
        var f = MapFilter.ApplyBFactor(v, D, Apix, 0);
        Assert.Equal(v, f);
        Assert.NotSame(v, f);
    }

    [Fact]
    public void EveryCoefficientIsScaledByTheBFactorEnvelope()
    {
        const double b = 150;
        var v = RandomVolume(2);
        var f = MapFilter.ApplyBFactor(v, D, Apix, b);
        var plan = FftBackends.Managed.Plan3D(D);
        var fv = new float[plan.ComplexLength];
        var ff = new float[plan.ComplexLength];
        plan.Forward(v, fv);
        plan.Forward(f, ff);
        int h = FourierLayout.HalfWidth(D);
        double peak = fv.Max(Math.Abs);
        for (int kz = -D / 2; kz < D / 2; kz++)
            for (int ky = -D / 2; ky < D / 2; ky++)
                for (int kx = 0; kx < h; kx++)
                {
                    double s2 = (kx * kx + ky * ky + kz * kz) / (D * Apix * D * Apix);
                    double g = Math.Exp(-b * s2 / 4);
                    int i = 2 * FourierLayout.HalfSpaceIndex(kx, ky, kz, D);
                    Assert.Equal(g * fv[i], ff[i], 1e-5 * peak);
                    Assert.Equal(g * fv[i + 1], ff[i + 1], 1e-5 * peak);
                }
        Assert.Equal(v.Average(), f.Average(), 5);
    }

    [Fact]
    public void RefusesANegativeBFactorAndAWrongLength()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MapFilter.ApplyBFactor(RandomVolume(3), D, Apix, -1));
        Assert.Throws<ArgumentException>(() => MapFilter.ApplyBFactor(new float[10], D, Apix, 10));
    }
}
