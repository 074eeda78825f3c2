using CryoFlow.Numerics.Extraction;
using CryoFlow.Numerics.Tests.Fourier;

namespace CryoFlow.Numerics.Tests.Extraction;

/// <summary>RELION's --norm against a brute-force reference: plane fit by least squares over the background, then
/// mean 0 and standard deviation 1 there.</summary>
public class BackgroundNormaliserTests
{
    /// <summary>The reference: background = offsets with i² + j² &gt; r², plane from the 3x3 normal equations solved by
    /// Gaussian elimination, statistics in double.</summary>
    private static double[] Reference(float[] image, int d, int r, bool ramp)
    {
        int c = d / 2;
        var bg = new List<(int X, int Y, double Z)>();
        for (int y = 0; y < d; y++)
            for (int x = 0; x < d; x++)
                if ((x - c) * (x - c) + (y - c) * (y - c) > r * r) bg.Add((x - c, y - c, image[y * d + x]));
        double a = 0, b = 0, k = 0;
        if (ramp)
        {
            var m = new double[3, 4];
            foreach (var p in bg)
            {
                double[] row = [p.X, p.Y, 1];
                for (int i = 0; i < 3; i++)
                {
                    for (int j = 0; j < 3; j++) m[i, j] += row[i] * row[j];
                    m[i, 3] += row[i] * p.Z;
                }
            }
            for (int col = 0; col < 3; col++)
                for (int i = col + 1; i < 3; i++)
                {
                    double f = m[i, col] / m[col, col];
                    for (int j = col; j < 4; j++) m[i, j] -= f * m[col, j];
                }
            var s = new double[3];
            for (int i = 2; i >= 0; i--)
            {
                double v = m[i, 3];
                for (int j = i + 1; j < 3; j++) v -= m[i, j] * s[j];
                s[i] = v / m[i, i];
            }
            (a, b, k) = (s[0], s[1], s[2]);
        }
        var result = new double[d * d];
        for (int y = 0; y < d; y++)
            for (int x = 0; x < d; x++)
                result[y * d + x] = image[y * d + x] - (a * (x - c) + b * (y - c) + k);
        var zs = bg.Select(p => result[(p.Y + c) * d + p.X + c]).ToArray();
        double mean = zs.Average(), sd = Math.Sqrt(zs.Sum(z => (z - mean) * (z - mean)) / zs.Length);
        return result.Select(v => (v - mean) / sd).ToArray();
    }

    private static float[] RampPlusNoise(int d, int seed)
    {
        var img = Backends.RandomReal(d * d, seed);
        for (int y = 0; y < d; y++)
            for (int x = 0; x < d; x++)
                img[y * d + x] = img[y * d + x] * 3 + 0.7f * x - 0.2f * y + 40;
        return img;
    }

    [Theory]
    [InlineData(8, 3, true)]
    [InlineData(64, 24, true)]
    [InlineData(64, 24, false)]
    [InlineData(66, 0, true)]
    [InlineData(32, 16, true)]
    public void MatchesTheBruteForceReference(int d, int r, bool ramp)
    {
        var img = RampPlusNoise(d, d + r);
        var expected = Reference(img, d, r, ramp);
        Assert.True(new BackgroundNormaliser(d, r, ramp).Normalise(img));
        for (int i = 0; i < img.Length; i++) Assert.Equal(expected[i], img[i], 1e-4);
    }

    [Fact]
    public void BackgroundHasMeanZeroAndUnitDeviationAndTheRampIsGone()
    {
        const int d = 64, r = 24;
        var img = RampPlusNoise(d, 3);
        new BackgroundNormaliser(d, r).Normalise(img);
        var bg = Enumerable.Range(0, d * d).Where(i => Math.Pow(i % d - d / 2, 2) + Math.Pow(i / d - d / 2, 2) > r * r).Select(i => (double)img[i]).ToArray();
        double mean = bg.Average();
        Assert.Equal(0, mean, 5);
        Assert.Equal(1, Math.Sqrt(bg.Sum(v => (v - mean) * (v - mean)) / bg.Length), 5);
        // left half and right half of the image have the same mean once the x ramp is removed
        double left = Enumerable.Range(0, d * d).Where(i => i % d < d / 2).Average(i => img[i]);
        double right = Enumerable.Range(0, d * d).Where(i => i % d >= d / 2).Average(i => img[i]);
        Assert.True(Math.Abs(left - right) < 0.1, $"left {left}, right {right}");
    }

    [Fact]
    public void ConstantImageIsReportedNotScaled()
    {
        var img = Enumerable.Repeat(5f, 16 * 16).ToArray();
        Assert.False(new BackgroundNormaliser(16, 4, subtractRamp: false).Normalise(img));
        var nan = new float[16 * 16];
        nan[0] = float.NaN;
        Assert.False(new BackgroundNormaliser(16, 4).Normalise(nan));
    }

    [Theory]
    [InlineData(64, 24)]
    [InlineData(256, 96)]
    [InlineData(100, 37)]
    public void DefaultRadiusIsRelionsGuiDefault(int box, int radius) => Assert.Equal(radius, BackgroundNormaliser.DefaultRadius(box));

    [Fact]
    public void RadiusLargerThanHalfTheBoxIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BackgroundNormaliser(32, 17));
        Assert.Throws<ArgumentException>(() => new BackgroundNormaliser(32, 8).Normalise(new float[10]));
    }
}
