using CryoFlow.Numerics.Resampling;
using CryoFlow.Numerics.Tests.Fourier;

namespace CryoFlow.Numerics.Tests.Resampling;

public class ImageResamplerTests
{
    /// <summary>cos(2 pi (kx (x - D/2) + ky (y - D/2)) / D) + c: the same physical wave at any sampling.</summary>
    private static float[] Wave(int d, int kx, int ky, double c)
    {
        var img = new float[d * d];
        for (int y = 0; y < d; y++)
            for (int x = 0; x < d; x++)
                img[y * d + x] = (float)(c + Math.Cos(2 * Math.PI * (kx * (x - d / 2) + ky * (y - d / 2)) / d));
        return img;
    }

    [Theory]
    [InlineData("managed", 64, 32)]
    [InlineData("managed", 32, 64)]
    [InlineData("fftw", 256, 64)]
    [InlineData("managed", 16, 16)]
    public void ResampledBandLimitedWaveIsTheWaveAtTheNewSampling(string backend, int from, int to)
    {
        var r = new ImageResampler(from, to, Backends.Get(backend));
        var result = new float[to * to];
        r.Resample(Wave(from, 3, -5, 2.5), result, r.CreateWorkspace());
        var expected = Wave(to, 3, -5, 2.5);
        for (int i = 0; i < result.Length; i++) Assert.Equal(expected[i], result[i], 1e-4);
    }

    [Fact]
    public void FrequenciesAboveTheNewNyquistAreRemoved()
    {
        var r = new ImageResampler(32, 16, Backends.Get("managed"));
        var result = new float[16 * 16];
        r.Resample(Wave(32, 9, 0, 0), result, r.CreateWorkspace());
        Assert.All(result, v => Assert.Equal(0, v, 5));
    }

    [Theory]
    [InlineData(0, 8)]
    [InlineData(8, 0)]
    [InlineData(8, 8)]
    [InlineData(3, 8)]
    public void DownSamplingKeepsTheNewNyquistLineAsRelionDoes(int kx, int ky)
    {
        // a wave at +D1/2 survives (RELION's windowFourierTransform keeps the +8 frequencies; on the 16 px grid +8 and
        // -8 are the same samples); where the wave is its own conjugate there (kx and ky in {0, 8}) only the +8 half of
        // its two components is kept, so it comes out at half amplitude, as in RELION
        var r = new ImageResampler(32, 16, Backends.Get("managed"));
        var result = new float[16 * 16];
        r.Resample(Wave(32, kx, ky, 0), result, r.CreateWorkspace());
        double factor = kx % 8 == 0 && ky % 8 == 0 ? 0.5 : 1;
        var expected = Wave(16, kx, ky, 0);
        for (int i = 0; i < result.Length; i++) Assert.Equal(factor * expected[i], result[i], 1e-4);
    }

    [Fact]
    public void WorkspaceIsReusableAndSizesAreChecked()
    {
        var r = new ImageResampler(32, 16, Backends.Get("managed"));
        var ws = r.CreateWorkspace();
        var a = new float[256];
        var b = new float[256];
        r.Resample(Wave(32, 1, 2, 0), a, ws);
        r.Resample(Backends.RandomReal(32 * 32, 1), b, ws);
        r.Resample(Wave(32, 1, 2, 0), b, ws);
        Assert.Equal(a, b);
        Assert.Throws<ArgumentException>(() => r.Resample(new float[10], a, ws));
        Assert.Throws<ArgumentException>(() => r.Resample(new float[1024], new float[10], ws));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageResampler(33, 16));
    }
}
