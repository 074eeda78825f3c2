using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Interop.Tests;

/// <summary>Similarity measures for comparing two renderings of the same particle (D x D, [y][x]).</summary>
public static class ImageComparison
{
    /// <summary>Pearson correlation (means removed): 1 for images equal up to an offset and a positive scale.</summary>
    public static double Correlation(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => TestSupport.ImageStats.Correlation(a, b);

    /// <summary>||a - reference|| / ||reference|| over all pixels; no offset or scale removed.</summary>
    public static double RelativeError(ReadOnlySpan<float> a, ReadOnlySpan<float> reference)
    {
        Assert.Equal(a.Length, reference.Length);
        double d = 0, r = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double e = a[i] - reference[i];
            d += e * e;
            r += (double)reference[i] * reference[i];
        }
        return Math.Sqrt(d / r);
    }

    /// <summary>
    /// <see cref="RelativeError"/> restricted to spatial frequencies |k| &lt;= <paramref name="maxRadius"/>
    /// (pixels of frequency): the same ratio of norms, taken over the unitary transforms (Parseval, each
    /// half-plane coefficient weighted by its conjugate partner).
    /// </summary>
    public static double RelativeErrorBelow(ReadOnlySpan<float> a, ReadOnlySpan<float> reference, int boxSize, double maxRadius)
    {
        var fft = FftBackends.Default.Plan2D(boxSize);
        var fa = new float[fft.ComplexLength];
        var fr = new float[fft.ComplexLength];
        fft.Forward(a, fa);
        fft.Forward(reference, fr);
        int h = FourierLayout.HalfWidth(boxSize);
        double d = 0, r = 0;
        for (int row = 0; row < boxSize; row++)
        {
            int ky = FourierLayout.FrequencyOfRow(row, boxSize);
            for (int kx = 0; kx < h; kx++)
            {
                if (kx * kx + ky * ky > maxRadius * maxRadius) continue;
                int j = 2 * (row * h + kx);
                double w = FourierLayout.HermitianWeight(kx, boxSize);
                double er = fa[j] - fr[j], ei = fa[j + 1] - fr[j + 1];
                d += w * (er * er + ei * ei);
                r += w * ((double)fr[j] * fr[j] + (double)fr[j + 1] * fr[j + 1]);
            }
        }
        return Math.Sqrt(d / r);
    }

    /// <summary>The least-squares scale s minimising ||s a - reference||.</summary>
    public static double Scale(ReadOnlySpan<float> a, ReadOnlySpan<float> reference)
    {
        double ar = 0, aa = 0;
        for (int i = 0; i < a.Length; i++)
        {
            ar += (double)a[i] * reference[i];
            aa += (double)a[i] * a[i];
        }
        return ar / aa;
    }
}
