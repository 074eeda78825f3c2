using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Projection;

namespace CryoFlow.Numerics.Tests.Marginalisation;

public class ParticlePreparerTests
{
    private const int D = 64;
    private const double Radius = 24;
    private static readonly CtfParameters Ctf = new(15000, 14000, 30, 300, 2.7, 0.1);

    private static ParticlePreparer Preparer(ProjectorOptions options, bool invert = false) =>
        new(new ImageRotator(D, options, FftBackends.Managed), new ParticlePreparationOptions(Radius, invert), FftBackends.Managed);

    /// <summary>Gaussian noise N(mean, sigma²) everywhere plus a bright disc of radius 20 px (the "particle").</summary>
    private static float[] NoisyParticle(double mean, double sigma, int seed, double particle = 50)
    {
        var rng = new Random(seed);
        var img = new float[D * D];
        for (int y = 0; y < D; y++)
            for (int x = 0; x < D; x++)
            {
                double r2 = (x - D / 2) * (x - D / 2) + (y - D / 2) * (y - D / 2);
                img[y * D + x] = (float)(mean + sigma * MarginalisationScene.Gaussian(rng) + (r2 < 400 ? particle : 0));
            }
        return img;
    }

    [Fact]
    public void BackgroundMeanAndNoiseSigmaAreRecoveredFromTheBorder()
    {
        var prep = Preparer(ProjectorOptions.Default);
        int n = prep.BackgroundPixelCount; // 4096 minus the 1793 pixels within 24 px of (32, 32)
        Assert.Equal(2303, n);
        var particle = prep.CreateParticle();
        foreach (var (mean, sigma, seed) in new[] { (3.5, 2.0, 1), (-120.0, 0.05, 2), (0.0, 17.0, 3) })
        {
            prep.Prepare(NoisyParticle(mean, sigma, seed, particle: 50 * sigma), 1.5, Ctf, particle);
            // standard errors: mean sigma/sqrt(n) ~ 0.021 sigma; MAD sigma ~ 1.65 sigma/sqrt(2n) ~ 0.024 sigma
            Assert.True(Math.Abs(particle.BackgroundMean - mean) < 4 * sigma / Math.Sqrt(n), $"mean {particle.BackgroundMean} vs {mean}");
            Assert.True(Math.Abs(particle.NoiseSigma / sigma - 1) < 4 * 1.65 / Math.Sqrt(2 * n), $"sigma {particle.NoiseSigma} vs {sigma}");
            Assert.Equal(n, particle.BackgroundPixels);
        }
    }

    [Fact]
    public void NoiseSigmaResistsANeighbouringParticleInTheBorder()
    {
        // 5% of the ring replaced by bright outliers (a neighbour's edge): the MAD moves a few percent, a standard
        // deviation would move by a factor of ten
        var prep = Preparer(ProjectorOptions.Default);
        var img = NoisyParticle(0, 1, 4);
        int hit = 0;
        for (int y = 0; y < D && hit < prep.BackgroundPixelCount / 20; y++)
            for (int x = 0; x < 12 && hit < prep.BackgroundPixelCount / 20; x++)
            {
                double r2 = (x - D / 2) * (x - D / 2) + (y - D / 2) * (y - D / 2);
                if (r2 > Radius * Radius) { img[y * D + x] = 40; hit++; }
            }
        var x2 = new float[D * D];
        Assert.Equal(PreparationStatus.Ok, prep.Normalise(img, x2, out _, out double sigma));
        Assert.InRange(sigma, 0.95, 1.15);
    }

    [Fact]
    public void TheNoiseOptionsGiveTheRingsStandardDeviationAFixedSigmaOrTheUnfloatedImage()
    {
        var rotator = new ImageRotator(D, ProjectorOptions.Default, FftBackends.Managed);
        ParticlePreparer With(ParticlePreparationOptions o) => new(rotator, o, FftBackends.Managed);
        var img = NoisyParticle(5, 2, 11);
        var robust = With(new ParticlePreparationOptions(Radius));
        var x = new float[D * D];
        robust.Normalise(img, x, out double mean, out double mad);

        // the plain standard deviation of the ring about its mean, computed here independently
        var ring = Enumerable.Range(0, D * D).Where(i => Math.Pow(i % D - D / 2, 2) + Math.Pow(i / D - D / 2, 2) > Radius * Radius).Select(i => (double)img[i]).ToArray();
        double ringMean = ring.Average(), std = Math.Sqrt(ring.Sum(v => (v - ringMean) * (v - ringMean)) / (ring.Length - 1));
        Assert.Equal(PreparationStatus.Ok, With(new ParticlePreparationOptions(Radius, PlainStandardDeviation: true)).Normalise(img, x, out double m2, out double s2));
        Assert.Equal(std, s2, 5);
        Assert.Equal(ringMean, m2, 5);
        Assert.NotEqual(mad, s2);

        Assert.Equal(PreparationStatus.Ok, With(new ParticlePreparationOptions(Radius, FixedSigma: 4)).Normalise(img, x, out double m3, out double s3));
        Assert.Equal(4, s3);
        Assert.Equal((img[0] - m3) / 4, x[0], 5);

        Assert.Equal(PreparationStatus.Ok, With(new ParticlePreparationOptions(Radius, KeepBackground: true)).Normalise(img, x, out double m4, out double s4));
        Assert.Equal(0, m4);
        Assert.Equal(img[0] / s4, x[0], 5);
        Assert.Equal(mad, s4, 9);
    }

    [Fact]
    public void PreparedPureUnitNoiseHasUnitVariance()
    {
        // raw noise N(7, 3²): the normalised pixels and their unitary transform both have unit variance
        var prep = Preparer(new ProjectorOptions(1, false), invert: false);
        var particle = prep.CreateParticle();
        var rng = new Random(9);
        var raw = new float[D * D];
        for (int i = 0; i < raw.Length; i++) raw[i] = (float)(7 + 3 * MarginalisationScene.Gaussian(rng));
        prep.Prepare(raw, 2.0, Ctf, particle);
        var x = new float[D * D];
        prep.Normalise(raw, x, out _, out _);
        double mean = x.Average(v => (double)v), variance = x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1);
        // standard errors: the robust sigma from n ring pixels ~ 1.17/sqrt(n) = 2.4% (the MAD's efficiency is 37%),
        // so 4.9% on the variance; the ring mean sigma/sqrt(n) = 2.1%. Measured: variance 0.960 (sigma 3.034 for 3), mean -0.016.
        double sigmaError = 1.17 / Math.Sqrt(prep.BackgroundPixelCount);
        TestContext.Current.TestOutputHelper?.WriteLine($"variance {variance:F4}, mean {mean:F4}, sigma {particle.NoiseSigma:F4}");
        Assert.True(Math.Abs(mean) < 3 / Math.Sqrt(prep.BackgroundPixelCount), $"mean {mean}");
        Assert.True(Math.Abs(variance - 1) < 3 * 2 * sigmaError, $"pixel variance {variance}");
        Assert.Equal(x.Sum(v => (double)v * v), particle.TotalEnergy, 6);
        // Fourier side: E|X(k)|² = variance for a unitary DFT; per disc coefficient (counting conjugates) the same
        var disc = new FourierDisc(D, D / 2);
        double perCoefficient = particle.EnergyWithin(D / 2) / disc.FullDiscCount;
        Assert.True(Math.Abs(perCoefficient / variance - 1) < 4 * Math.Sqrt(1.0 / disc.Count), $"Fourier power {perCoefficient} vs pixel variance {variance}");
        // and the rotator sees the same transform (no padding, no premultiplication: psi = 0 is exact)
        var rotated = new float[2 * disc.Count];
        new ImageRotator(D, new ProjectorOptions(1, false), FftBackends.Managed).Rotate(particle.Image, disc, 0, rotated);
        Assert.Equal(particle.EnergyWithin(D / 2), disc.InnerProduct(rotated, rotated), 3);
    }

    [Fact]
    public void EnergyWithinCountsTheDiscOfEachRadius()
    {
        var prep = Preparer(new ProjectorOptions(1, false));
        var particle = prep.CreateParticle();
        prep.Prepare(NoisyParticle(1, 2, 5), 2.0, Ctf, particle);
        var full = new FourierDisc(D, D / 2);
        var values = new float[2 * full.Count];
        new ImageRotator(D, new ProjectorOptions(1, false), FftBackends.Managed).Rotate(particle.Image, full, 0, values);
        foreach (double r in new[] { 0.5, 1, 1.5, 7.3, 8, 8.0001, 20, 31.9, 32 })
        {
            var disc = new FourierDisc(D, r);
            var v = values.AsSpan(0, 2 * disc.Count).ToArray(); // the smaller disc is a prefix
            Assert.Equal(disc.InnerProduct(v, v), particle.EnergyWithin(r), 3);
        }
        Assert.Equal(particle.EnergyWithin(32), particle.EnergyWithin(100));
        Assert.Equal(0, particle.EnergyWithin(0));
        Assert.True(particle.EnergyWithin(32) < particle.TotalEnergy); // the corners and the Nyquist lines lie outside
    }

    [Fact]
    public void ContrastInversionNegatesTheNormalisedImageAndTheCtfIsDividedBySigma()
    {
        var img = NoisyParticle(2, 4, 6);
        var plain = Preparer(ProjectorOptions.Default);
        var inverted = Preparer(ProjectorOptions.Default, invert: true);
        var a = new float[D * D];
        var b = new float[D * D];
        plain.Normalise(img, a, out _, out double sa);
        inverted.Normalise(img, b, out _, out double sb);
        Assert.Equal(sa, sb);
        for (int i = 0; i < a.Length; i++) Assert.Equal(-a[i], b[i]);
        var particle = inverted.CreateParticle();
        inverted.Prepare(img, 1.7, Ctf, particle);
        Assert.True(particle.ContrastInverted);
        Assert.Equal(Ctf, particle.Ctf);
        Assert.Equal(1.7, particle.PixelSize);
        foreach (var (sx, sy) in new[] { (0.0, 0.0), (0.05, -0.02), (0.1, 0.2) })
            Assert.Equal(Ctf.Evaluate(sx, sy) / particle.NoiseSigma, particle.NormalisedCtf.Evaluate(sx, sy), 12);
    }

    [Fact]
    public void ARestoredParticleIsTheParticleThePreparerMade()
    {
        var prep = Preparer(ProjectorOptions.Default, invert: true);
        var original = prep.CreateParticle();
        prep.Prepare(NoisyParticle(1, 2, 8), 1.7, Ctf, original);
        var restored = prep.CreateParticle();
        restored.Restore(original.Image.Values, original.CumulativeEnergyTable, original.PixelSize, original.Ctf, original.BackgroundMean,
            original.NoiseSigma, original.ContrastInverted, original.BackgroundPixels, original.TotalEnergy);
        Assert.Equal(original.Image.Values.ToArray(), restored.Image.Values.ToArray());
        Assert.Equal(original.CumulativeEnergyTable.ToArray(), restored.CumulativeEnergyTable.ToArray());
        Assert.Equal((original.PixelSize, original.Ctf, original.BackgroundMean, original.NoiseSigma, original.ContrastInverted, original.BackgroundPixels, original.TotalEnergy),
            (restored.PixelSize, restored.Ctf, restored.BackgroundMean, restored.NoiseSigma, restored.ContrastInverted, restored.BackgroundPixels, restored.TotalEnergy));
        Assert.Equal(original.NormalisedCtf.Evaluate(0.05, -0.02), restored.NormalisedCtf.Evaluate(0.05, -0.02));
        Assert.Throws<ArgumentException>(() => restored.Restore(new float[3], original.CumulativeEnergyTable, 1, Ctf, 0, 1, false, 1, 1));
    }

    [Fact]
    public void ImagesThatCannotBePreparedAreReportedNotThrown()
    {
        var prep = Preparer(ProjectorOptions.Default);
        var particle = prep.CreateParticle();
        var img = NoisyParticle(0, 1, 7);
        img[100] = float.NaN;
        Assert.Equal(PreparationStatus.NonFinitePixel, prep.TryPrepare(img, 1, Ctf, particle));
        var flat = new float[D * D];
        Assert.Equal(PreparationStatus.ZeroBackgroundNoise, prep.TryPrepare(flat, 1, Ctf, particle));
        var big = new ParticlePreparer(new ImageRotator(D, ProjectorOptions.Default, FftBackends.Managed), new ParticlePreparationOptions(44), FftBackends.Managed);
        Assert.Equal(PreparationStatus.TooFewBackgroundPixels, big.TryPrepare(NoisyParticle(0, 1, 8), 1, Ctf, big.CreateParticle()));
        Assert.Throws<ArgumentException>(() => prep.Prepare(flat, 1, Ctf, particle));
    }

    [Fact]
    public void PreparationDoesNotAllocate()
    {
        var prep = Preparer(ProjectorOptions.Default);
        var particle = prep.CreateParticle();
        var img = NoisyParticle(1, 1, 10);
        prep.Prepare(img, 1, Ctf, particle);
        long before = GC.GetAllocatedBytesForCurrentThread();
        prep.Prepare(img, 1, Ctf, particle);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(1000)]
    [InlineData(1001)]
    public void MedianAndSelectionAgreeWithSorting(int n)
    {
        var rng = new Random(n);
        foreach (bool duplicates in new[] { false, true })
        {
            var a = new float[n];
            for (int i = 0; i < n; i++) a[i] = duplicates ? rng.Next(5) : (float)rng.NextDouble();
            var sorted = a.OrderBy(v => v).ToArray();
            double expected = n % 2 == 1 ? sorted[n / 2] : 0.5 * ((double)sorted[n / 2 - 1] + sorted[n / 2]);
            Assert.Equal(expected, RobustStatistics.Median(a.ToArray()));
            foreach (int k in new[] { 0, n / 3, n - 1 })
            {
                var b = a.ToArray();
                Assert.Equal(sorted[k], RobustStatistics.Select(b, k));
                for (int i = 0; i < k; i++) Assert.True(b[i] <= b[k]);
                for (int i = k + 1; i < n; i++) Assert.True(b[i] >= b[k]);
            }
        }
        // adversarial for a middle pivot: sorted and organ-pipe inputs
        var pipe = Enumerable.Range(0, n).Select(i => (float)Math.Min(i, n - i)).ToArray();
        Assert.Equal(pipe.OrderBy(v => v).ElementAt(n / 2), RobustStatistics.Select(pipe.ToArray(), n / 2));
    }

    [Fact]
    public void MaskZeroesPixelsBeyondItsRadiusAfterTheNoiseEstimate()
    {
        var rotator = new ImageRotator(D, ProjectorOptions.Default, FftBackends.Managed);
        var plain = new ParticlePreparer(rotator, new ParticlePreparationOptions(Radius), FftBackends.Managed);
        var masked = new ParticlePreparer(rotator, new ParticlePreparationOptions(Radius, MaskRadius: 26, MaskSoftEdge: 3), FftBackends.Managed);
        var img = NoisyParticle(5, 2, 11);
        var a = plain.CreateParticle();
        var b = masked.CreateParticle();
        Assert.Equal(PreparationStatus.Ok, plain.TryPrepare(img, 2.0, Ctf, a));
        Assert.Equal(PreparationStatus.Ok, masked.TryPrepare(img, 2.0, Ctf, b));
        // the noise estimate is the same (the mask comes after it)
        Assert.Equal(a.NoiseSigma, b.NoiseSigma, 12);
        // the masked energy is the normalised image's energy weighted by the squared mask
        var x = new float[D * D];
        plain.Normalise(img, x, out _, out _);
        double expected = 0;
        for (int y = 0; y < D; y++)
            for (int xx = 0; xx < D; xx++)
            {
                double dist = Math.Sqrt((xx - D / 2) * (xx - D / 2) + (y - D / 2) * (y - D / 2));
                double w = dist <= 26 ? 1 : dist < 29 ? 0.5 * (1 + Math.Cos(Math.PI * (dist - 26) / 3)) : 0;
                expected += w * w * x[y * D + xx] * x[y * D + xx];
            }
        Assert.Equal(expected, b.TotalEnergy, expected * 1e-5);
        Assert.True(b.TotalEnergy < a.TotalEnergy);
    }
}
