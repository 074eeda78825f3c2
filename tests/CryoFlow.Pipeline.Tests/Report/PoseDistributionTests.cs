using CryoFlow.Pipeline.Report;
using CryoFlow.TestSupport;

namespace CryoFlow.Pipeline.Tests.Report;

public class PoseDistributionTests
{
    [Fact]
    public void UniformViewsFillEveryRowOfTheEqualAreaSkyMapAlike()
    {
        var rng = new Random(4);
        const int n = 200_000;
        var rot = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 360 - 180).ToArray();
        var tilt = Enumerable.Range(0, n).Select(_ => Math.Acos(2 * rng.NextDouble() - 1) * 180 / Math.PI).ToArray();
        var sky = PoseDistribution.Sky(rot, tilt);
        Assert.Equal(2 * sky.Rows, sky.Columns);
        var png = PngTestDecoder.Decode(sky.Png);
        Assert.Equal((sky.Columns, sky.Rows), (png.Width, png.Height));
        // with equal solid angles per cell, the mean gray of the polar rows equals that of the equator's
        double RowMean(int r) => png.Pixels.Skip(r * png.Width).Take(png.Width).Average(p => (double)p);
        double top = RowMean(0), middle = RowMean(sky.Rows / 2), bottom = RowMean(sky.Rows - 1);
        Assert.True(Math.Abs(top - middle) < 0.15 * middle && Math.Abs(bottom - middle) < 0.15 * middle, $"row means {top:F1}, {middle:F1}, {bottom:F1}");
    }

    [Fact]
    public void OneViewLightsItsCell()
    {
        // rot 90 (three quarters across), tilt 95 (cos -0.087: just below the equator); rot 450 is the same direction
        var sky = PoseDistribution.Sky([90, 450], [95, 95]);
        var png = PngTestDecoder.Decode(sky.Png);
        Assert.Equal(2, sky.MaxCount);
        int lit = Array.IndexOf(png.Pixels, (byte)255);
        Assert.Equal((3 * sky.Columns / 4, sky.Rows / 2), (lit % png.Width, lit / png.Width));
        Assert.Equal(png.Pixels.Length - 1, png.Pixels.Count(p => p == 0));
    }

    [Fact]
    public void HistogramClampsIntoTheEndBinsAndSkipsNonFiniteValues()
    {
        Assert.Equal([2, 1, 0, 2], PoseDistribution.Histogram([-0.5, 0.1, 0.3, 1.0, 7, double.NaN], 0, 1, 4));
    }
}
