using CryoFlow.Numerics.Resampling;

namespace CryoFlow.Numerics.Tests.Simulation;

public class FourierResamplerTests
{
    private static float[] Gaussian(int d, double sigmaFraction)
    {
        // a Gaussian blob centred on voxel D/2 whose width is a fixed fraction of the box (same physical object)
        double s = sigmaFraction * d;
        var v = new float[d * d * d];
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
                for (int x = 0; x < d; x++)
                {
                    double r2 = (x - d / 2) * (x - d / 2) + (y - d / 2) * (y - d / 2) + (z - d / 2) * (z - d / 2);
                    v[(z * d + y) * d + x] = (float)Math.Exp(-r2 / (2 * s * s));
                }
        return v;
    }

    [Theory]
    [InlineData(32, 64)]
    [InlineData(64, 32)]
    [InlineData(32, 48)]
    public void ResampledSmoothBlobMatchesTheBlobDrawnAtTheNewSampling(int from, int to)
    {
        var result = FourierResampler.ResampleVolume(Gaussian(from, 0.08), from, to);
        var expected = Gaussian(to, 0.08);
        double num = 0, den = 0;
        for (int i = 0; i < expected.Length; i++) { num += (result[i] - expected[i]) * (result[i] - expected[i]); den += expected[i] * (double)expected[i]; }
        Assert.True(Math.Sqrt(num / den) < 1e-3, $"relative error {Math.Sqrt(num / den)}");
        // the peak keeps its value: amplitudes are preserved, not the sum
        Assert.Equal(1.0, result[((to / 2) * to + to / 2) * to + to / 2], 2);
    }

    [Fact]
    public void SameBoxReturnsACopy()
    {
        var v = Gaussian(16, 0.1);
        var r = FourierResampler.ResampleVolume(v, 16, 16);
        Assert.Equal(v, r);
        Assert.NotSame(v, r);
    }
}
