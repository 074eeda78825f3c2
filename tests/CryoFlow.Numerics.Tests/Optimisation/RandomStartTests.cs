using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class RandomStartTests
{
    private const int D = 32;

    private static double DistanceFromCentre(int index, int d)
    {
        int x = index % d, y = index / d % d, z = index / (d * d);
        double c = d / 2;
        return Math.Sqrt((x - c) * (x - c) + (y - c) * (y - c) + (z - c) * (z - c));
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(1, 10.0)]
    [InlineData(2, 6.5)]
    public void DensityIsZeroOutsideTheParticleRadiusAndNonNegativeInside(int seed, double? radius)
    {
        var v = RandomStart.Create(D, new RandomStartOptions { Seed = seed, ParticleRadius = radius });
        double r = radius ?? D / 2 - 1;
        for (int i = 0; i < v.Length; i++)
        {
            Assert.True(v[i] >= 0, $"voxel {i} = {v[i]}");
            if (DistanceFromCentre(i, D) >= r) Assert.True(v[i] == 0, $"voxel {i} at {DistanceFromCentre(i, D):F2} px = {v[i]}");
        }
        // The spheres reach out towards the radius: something lies in its outer half.
        Assert.Contains(v.Select((x, i) => (x, i)), p => p.x > 0 && DistanceFromCentre(p.i, D) > r / 2);
    }

    [Fact]
    public void TheSameSeedGivesTheSameDensityAndAnotherSeedAnother()
    {
        var options = new RandomStartOptions { Seed = 42 };
        var a = RandomStart.Create(D, options);
        Assert.Equal(a, RandomStart.Create(D, options));
        var b = RandomStart.Create(D, options with { Seed = 43 });
        double difference = a.Zip(b, (x, y) => Math.Abs(x - y)).Sum();
        Assert.True(difference > 0.1 * a.Sum(), $"seeds 42 and 43 differ by {difference} of {a.Sum()}");
    }

    [Fact]
    public void TheDensityIsScaledToTheRequestedTotalMassOrMean()
    {
        var mass = RandomStart.Create(D, new RandomStartOptions { TotalMass = 123.5 });
        Assert.Equal(123.5, mass.Sum(x => (double)x), 2);
        var mean = RandomStart.Create(D, new RandomStartOptions { MeanDensity = 0.01 });
        Assert.Equal(0.01, mean.Average(x => (double)x), 6);
        // Scaling changes nothing but the scale.
        var raw = RandomStart.Create(D, new RandomStartOptions());
        double k = mass.Sum(x => (double)x) / raw.Sum(x => (double)x);
        for (int i = 0; i < raw.Length; i++) Assert.Equal(raw[i] * k, mass[i], 4);
    }

    [Fact]
    public void SpheresHaveSoftEdges()
    {
        // Without an edge width the density takes only sums of the amplitudes; with one, intermediate values appear
        // between 0 and the smallest amplitude (0.5).
        var hard = RandomStart.Create(D, new RandomStartOptions { SphereCount = 1, EdgeWidth = 0 });
        var soft = RandomStart.Create(D, new RandomStartOptions { SphereCount = 1, EdgeWidth = 3 });
        Assert.Single(hard.Where(x => x > 0).Distinct());
        Assert.Contains(soft, x => x > 0 && x < 0.25);
    }

    [Fact]
    public void InvalidSettingsNameTheirMember()
    {
        Assert.Equal("meanDensity", Assert.Throws<InvalidSettingException>(() => RandomStart.Create(D, new RandomStartOptions { TotalMass = 1, MeanDensity = 1 })).Field);
        Assert.Equal("sphereCount", Assert.Throws<InvalidSettingException>(() => RandomStart.Create(D, new RandomStartOptions { SphereCount = 0 })).Field);
        Assert.Equal("maxSphereRadius", Assert.Throws<InvalidSettingException>(() => RandomStart.Create(D, new RandomStartOptions { MinSphereRadius = 0.5, MaxSphereRadius = 0.2 })).Field);
        Assert.Equal("particleRadius", Assert.Throws<InvalidSettingException>(() => RandomStart.Create(D, new RandomStartOptions { ParticleRadius = 0.5 })).Field);
        Assert.Throws<ArgumentException>(() => RandomStart.Fill(new float[10], D, new RandomStartOptions()));
    }
}
