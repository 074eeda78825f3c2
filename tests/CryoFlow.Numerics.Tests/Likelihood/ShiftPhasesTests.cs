using CryoFlow.Numerics.Likelihood;

namespace CryoFlow.Numerics.Tests.Likelihood;

public class ShiftPhasesTests
{
    [Theory]
    [InlineData(0, 3)]
    [InlineData(1, 1)]
    [InlineData(57, 4)]
    public void PhasesEqualTheComplexExponentialOfTheShift(int nk, int nt)
    {
        const int box = 24;
        var rng = new Random(nk + nt);
        int[] kx = Enumerable.Range(0, nk).Select(_ => rng.Next(-12, 13)).ToArray();
        int[] ky = Enumerable.Range(0, nk).Select(_ => rng.Next(-12, 13)).ToArray();
        float[] tx = Enumerable.Range(0, nt).Select(_ => (float)(10 * rng.NextDouble() - 5)).ToArray();
        float[] ty = Enumerable.Range(0, nt).Select(_ => (float)(10 * rng.NextDouble() - 5)).ToArray();
        var re = new float[nt * nk];
        var im = new float[nt * nk];
        ShiftPhases.Compute(kx, ky, box, tx, ty, re, im, new float[ShiftPhases.TableLength(box)]);
        for (int t = 0; t < nt; t++)
            for (int k = 0; k < nk; k++)
            {
                double a = 2 * Math.PI * (kx[k] * (double)tx[t] + ky[k] * (double)ty[t]) / box;
                Assert.Equal(Math.Cos(a), re[t * nk + k], 5e-7);
                Assert.Equal(Math.Sin(a), im[t * nk + k], 5e-7);
            }
    }

    [Fact]
    public void IntegerShiftOfOnePixelAtNyquistFlipsTheSign()
    {
        var re = new float[1];
        var im = new float[1];
        ShiftPhases.Compute([8], [0], 16, [1f], [0f], re, im, new float[ShiftPhases.TableLength(16)]);
        Assert.Equal(-1f, re[0], 1e-6f);
        Assert.Equal(0f, im[0], 1e-6f);
    }

    [Fact]
    public void RejectsCoordinatesBeyondNyquist()
    {
        Assert.Throws<ArgumentException>(() =>
            ShiftPhases.Compute([9], [0], 16, [1f], [0f], new float[1], new float[1], new float[ShiftPhases.TableLength(16)]));
    }
}
