using CryoFlow.Pipeline.Report;

namespace CryoFlow.Pipeline.Tests.Report;

public class SeriesThinningTests
{
    private static (double[] X, double[] Y) Noisy(int n, int seed)
    {
        var rng = new Random(seed);
        return (Enumerable.Range(0, n).Select(i => (double)i).ToArray(), Enumerable.Range(0, n).Select(i => Math.Sin(i / 50.0) + 0.1 * rng.NextDouble()).ToArray());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(500)]
    public void SeriesNoLongerThanTheLimitAreKeptWhole(int n)
    {
        var (x, y) = Noisy(n, 1);
        Assert.Equal(Enumerable.Range(0, n), SeriesThinning.Lttb(x, y, 500));
    }

    [Theory]
    [InlineData(501, 500)]
    [InlineData(5000, 500)]
    [InlineData(100_000, 3)]
    [InlineData(100_000, 777)]
    public void LongSeriesKeepTheEndsAndExactlyTheLimitInOrder(int n, int limit)
    {
        var (x, y) = Noisy(n, 2);
        var kept = SeriesThinning.Lttb(x, y, limit);
        Assert.Equal(limit, kept.Length);
        Assert.Equal(0, kept[0]);
        Assert.Equal(n - 1, kept[^1]);
        for (int i = 1; i < kept.Length; i++) Assert.True(kept[i] > kept[i - 1]);
    }

    [Fact]
    public void ASingleSpikeSurvives()
    {
        const int n = 5000;
        var x = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var y = new double[n];
        y[3217] = 100;
        y[1234] = -40;
        var kept = SeriesThinning.Lttb(x, y, 100);
        Assert.Contains(3217, kept);
        Assert.Contains(1234, kept);
    }

    [Fact]
    public void RefusesMismatchedLengthsAndTooSmallALimit()
    {
        Assert.Throws<ArgumentException>(() => SeriesThinning.Lttb(new double[3], new double[4], 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => SeriesThinning.Lttb(new double[3], new double[3], 2));
    }
}
