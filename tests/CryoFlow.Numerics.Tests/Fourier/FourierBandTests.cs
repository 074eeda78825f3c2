using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Tests.Fourier;

public class FourierBandTests
{
    /// <summary>Whether the coefficient at half-space storage index (z, y, x) lies in the ball |k| &lt;= r, by brute force.</summary>
    private static bool InBand(int d, int z, int y, int x, double radius)
    {
        int kz = z < d / 2 ? z : z - d, ky = y < d / 2 ? y : y - d;
        return (double)x * x + (double)ky * ky + (double)kz * kz <= radius * radius;
    }

    [Theory]
    [InlineData(2, 0)]
    [InlineData(2, 1)]
    [InlineData(8, 0.5)]
    [InlineData(8, 1)]
    [InlineData(8, 2.9999999)]
    [InlineData(8, 3)]
    [InlineData(8, 5.5)]
    [InlineData(8, 100)]
    [InlineData(16, 7.3)]
    [InlineData(32, double.PositiveInfinity)]
    public void PackKeepsExactlyTheBallAndUnpackPutsItBackWithZerosElsewhere(int d, double radius)
    {
        int h = d / 2 + 1, total = FourierLayout.HalfSpaceLength(d);
        var rng = new Random(d);
        var spectrum = new float[2 * total];
        for (int i = 0; i < spectrum.Length; i++) spectrum[i] = (float)rng.NextDouble() + 1;
        int expected = 0;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
                for (int x = 0; x < h; x++)
                    if (InBand(d, z, y, x, radius)) expected++;
        Assert.Equal(expected, FourierBand.Count(d, radius));

        var packed = new float[2 * expected];
        FourierBand.Pack(d, radius, spectrum, packed);
        var back = new float[spectrum.Length];
        back.AsSpan().Fill(float.NaN);
        FourierBand.Unpack(d, radius, packed, back);
        int at = 0;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
                for (int x = 0; x < h; x++)
                {
                    int i = 2 * ((z * d + y) * h + x);
                    bool kept = InBand(d, z, y, x, radius);
                    for (int c = 0; c < 2; c++)
                    {
                        Assert.Equal(kept ? spectrum[i + c] : 0, back[i + c]);
                        if (kept) Assert.Equal(spectrum[i + c], packed[at++]); // storage order
                    }
                }
        Assert.Equal(packed.Length, at);
    }

    [Fact]
    public void LengthsAreChecked()
    {
        var spectrum = new float[2 * FourierLayout.HalfSpaceLength(8)];
        Assert.Throws<ArgumentException>(() => FourierBand.Pack(8, 2, spectrum, new float[3]));
        Assert.Throws<ArgumentException>(() => FourierBand.Unpack(8, 2, new float[2 * FourierBand.Count(8, 2)], new float[10]));
        Assert.Throws<ArgumentOutOfRangeException>(() => FourierBand.Count(8, double.NaN));
    }
}
