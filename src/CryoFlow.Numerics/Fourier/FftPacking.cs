using System.Diagnostics.CodeAnalysis;

namespace CryoFlow.Numerics.Fourier;

/// <summary>
/// Shared pre/post-processing of both backends: the (-1)^(k) origin factor fused with the unitary scale,
/// and the symmetrisation of the doubly-stored kx = 0 and kx = D/2 columns before an inverse.
/// </summary>
internal static class FftPacking
{
    /// <summary>dst = src * scale * (-1)^(row parity + c) over rows of H complex values.</summary>
    /// <param name="rowParity">parity (0/1) of each row's frequency sum excluding kx; callable per row.</param>
    public static void ScaleModulateRow(ReadOnlySpan<float> src, Span<float> dst, int halfWidth, float scale, int rowParity)
    {
        float even = (rowParity & 1) == 0 ? scale : -scale;
        float odd = -even;
        int n = 2 * halfWidth;
        for (int i = 0; i < n; i += 4)
        {
            dst[i] = src[i] * even;
            dst[i + 1] = src[i + 1] * even;
            if (i + 2 < n)
            {
                dst[i + 2] = src[i + 2] * odd;
                dst[i + 3] = src[i + 3] * odd;
            }
        }
    }

    /// <summary>Scale and modulate a whole half-plane (rows = D) or half-space (rows = D*D, row = z*D + y).</summary>
    public static void ScaleModulate(ReadOnlySpan<float> src, Span<float> dst, int boxSize, int rank, float scale)
    {
        int h = FourierLayout.HalfWidth(boxSize);
        int rows = rank == 2 ? boxSize : boxSize * boxSize;
        for (int row = 0; row < rows; row++)
        {
            int parity = rank == 2 ? row : (row / boxSize) + (row % boxSize);
            int o = 2 * row * h;
            ScaleModulateRow(src.Slice(o, 2 * h), dst.Slice(o, 2 * h), h, scale, parity);
        }
    }

    /// <summary>
    /// In place: replace each conjugate pair stored twice in the kx = 0 and kx = D/2 columns (planes in 3D)
    /// by its Hermitian average, and self-conjugate values by their real part. The inverse transform of the
    /// result is what c2r semantics define for the unsymmetrised input.
    /// </summary>
    public static void SymmetrizeDoublyStored(Span<float> half, int boxSize, int rank)
    {
        int d = boxSize, h = FourierLayout.HalfWidth(d);
        foreach (int c in (ReadOnlySpan<int>)[0, d / 2])
        {
            if (rank == 2)
            {
                for (int r = 0; r <= d / 2; r++)
                    AveragePair(half, 2 * (r * h + c), 2 * (((d - r) % d) * h + c));
            }
            else
            {
                for (int z = 0; z < d; z++)
                {
                    int zp = (d - z) % d;
                    for (int y = 0; y < d; y++)
                    {
                        int yp = (d - y) % d;
                        int i = (z * d + y) * h + c, j = (zp * d + yp) * h + c;
                        if (j < i) continue;
                        AveragePair(half, 2 * i, 2 * j);
                    }
                }
            }
        }
    }

    private static void AveragePair(Span<float> a, int i, int j)
    {
        if (i == j)
        {
            a[i + 1] = 0;
            return;
        }
        float re = 0.5f * (a[i] + a[j]);
        float im = 0.5f * (a[i + 1] - a[j + 1]);
        a[i] = re; a[i + 1] = im;
        a[j] = re; a[j + 1] = -im;
    }

    public static void CheckLengths(IRealFft plan, int realLength, int complexLength)
    {
        if (realLength != plan.RealLength) ThrowLength("real", plan.RealLength, realLength);
        if (complexLength != plan.ComplexLength) ThrowLength("half-complex", plan.ComplexLength, complexLength);
    }

    [DoesNotReturn]
    private static void ThrowLength(string what, int expected, int found) =>
        throw new ArgumentException($"{what} buffer has {found} floats, the plan needs {expected}");
}
