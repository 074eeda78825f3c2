using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Tests.Fourier;

public class FourierDiscTests
{
    [Theory]
    [InlineData(8, 4.0)]
    [InlineData(32, 7.5)]
    [InlineData(64, 30)]
    [InlineData(64, 32)]
    public void HoldsExactlyOneOfEachConjugatePairInsideTheStrictRadius(int d, double r)
    {
        var disc = new FourierDisc(d, r);
        var seen = new HashSet<(int, int)>();
        for (int j = 0; j < disc.Count; j++)
        {
            int kx = disc.Kx[j], ky = disc.Ky[j];
            Assert.True(kx * kx + ky * ky < r * r);
            Assert.True(kx > 0 || (kx == 0 && ky >= 0));
            Assert.True(seen.Add((kx, ky)));
            Assert.DoesNotContain((-kx, -ky), kx == 0 && ky == 0 ? [] : seen);
            Assert.Equal(kx == 0 && ky == 0 ? 1f : 2f, disc.Multiplicity[j]);
            Assert.Equal(FourierLayout.HalfPlaneIndex(kx, ky, d), disc.HalfPlaneIndex[j]);
        }
        int full = 0;
        for (int ky = -d / 2; ky < d / 2; ky++)
            for (int kx = -d / 2; kx < d / 2; kx++)
                if (kx * kx + ky * ky < r * r) full++;
        Assert.Equal(full, disc.FullDiscCount);
        Assert.Equal(2 * disc.Count - 1, disc.FullDiscCount);
    }

    [Fact]
    public void IsSortedByRadiusSoSmallerDiscsArePrefixes()
    {
        var big = new FourierDisc(64, 30);
        foreach (double r in new[] { 1.0, 5.5, 12, 17.92 })
        {
            var small = new FourierDisc(64, r);
            Assert.Equal(small.Count, big.CountWithin(r));
            Assert.True(small.Kx.SequenceEqual(big.Kx[..small.Count]));
            Assert.True(small.Ky.SequenceEqual(big.Ky[..small.Count]));
        }
        Assert.Equal(0, big.Kx[0]);
        Assert.Equal(0, big.Ky[0]);
    }

    [Fact]
    public void WeightedInnerProductEqualsTheRealSpaceDotOfBandLimitedImages()
    {
        const int d = 32;
        var disc = new FourierDisc(d, 11);
        var plan = FftBackends.Managed.Plan2D(d);
        var rng = new Random(8);
        float[] RandomDisc()
        {
            var a = Backends.RandomReal(2 * disc.Count, rng.Next());
            a[1] = 0; // the origin of a real image is real
            return a;
        }
        var a = RandomDisc();
        var b = RandomDisc();
        var half = new float[plan.ComplexLength];
        var ia = new float[plan.RealLength];
        var ib = new float[plan.RealLength];
        disc.Scatter(a, half);
        plan.Inverse(half, ia);
        disc.Scatter(b, half);
        plan.Inverse(half, ib);
        double real = 0;
        for (int i = 0; i < ia.Length; i++) real += (double)ia[i] * ib[i];
        Assert.Equal(disc.InnerProduct(a, b), real, 4);
        // and the scattered image's transform gathers back to the same disc values
        plan.Forward(ia, half);
        var back = new float[2 * disc.Count];
        disc.Gather(half, back);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - back[i]) < 1e-5);
    }

    [Fact]
    public void RefusesRadiiBeyondNyquistAndWrongBufferLengths()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FourierDisc(32, 16.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FourierDisc(32, 0));
        var disc = new FourierDisc(32, 8);
        Assert.Throws<ArgumentException>(() => disc.Gather(new float[10], new float[2 * disc.Count]));
    }
}
