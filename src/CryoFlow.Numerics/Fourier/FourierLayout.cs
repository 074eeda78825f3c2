using System.Diagnostics.CodeAnalysis;

namespace CryoFlow.Numerics.Fourier;

/// <summary>
/// The storage conventions every Fourier-space array in CryoFlow follows. Other classes refer here.
/// <list type="bullet">
/// <item><b>Real arrays</b>: row-major with x fastest. 2D image <c>[y][x]</c>, index <c>y*D + x</c>;
/// 3D volume <c>[z][y][x]</c>, index <c>(z*D + y)*D + x</c> (the MRC order).</item>
/// <item><b>Complex values</b>: interleaved single precision, value j at floats <c>[2j]</c> (real) and
/// <c>[2j+1]</c> (imaginary); byte-compatible with FFTW's <c>fftwf_complex</c>.</item>
/// <item><b>Half-plane (2D)</b>: <c>D</c> rows by <c>H = D/2+1</c> columns, complex index <c>r*H + c</c>.
/// Column c is the frequency kx = c (0..D/2). Row r is the frequency ky = r for r &lt; D/2 and
/// ky = r - D for r &gt;= D/2 (so the Nyquist row r = D/2 is ky = -D/2, the numpy <c>fftfreq</c> order).</item>
/// <item><b>Half-space (3D)</b>: <c>[kz][ky][kx]</c>, <c>D x D x H</c>, complex index <c>(r_z*D + r_y)*H + c</c>,
/// rows wrapped as in 2D.</item>
/// <item><b>Transform</b>: unitary, F(k) = N^-1/2 sum_x f(x) exp(-2 pi i k.(x - D/2)/D) with N = D^2 or D^3;
/// the phase origin (real-space centre) is pixel D/2 (0-based) on every axis, as in RELION. The inverse
/// is the adjoint, N^-1/2 sum_k F(k) exp(+2 pi i k.(x - D/2)/D) over the Hermitian extension of the
/// stored half. Only even D is supported: odd boxes are refused. For even D the origin at D/2 is the factor
/// (-1)^(kx+ky[+kz]) applied to the output of a plain FFT (equivalently a circular shift of the input by D/2);
/// a (-1)^(x+y[+z]) checkerboard on the <i>input</i> would instead shift the frequencies by D/2 (a centred
/// spectrum), which half-plane storage cannot hold.</item>
/// <item><b>Hermitian weight</b> w(kx): a stored coefficient stands for itself and its conjugate partner
/// (-k), except in the kx = 0 and kx = D/2 columns/planes, where both partners are stored. So w = 1 for
/// kx in {0, D/2} and 2 otherwise, and for real f: sum_x f(x)^2 = sum_half w(kx) |F(k)|^2 (Parseval).
/// The same weight defines the half-space inner product &lt;X, Y&gt;_w = sum w Re(conj(X) Y) under which
/// the inverse transform is the exact adjoint of the forward one.</item>
/// </list>
/// </summary>
public static class FourierLayout
{
    /// <summary>Number of stored columns, D/2 + 1.</summary>
    public static int HalfWidth(int boxSize) => boxSize / 2 + 1;

    /// <summary>Complex values in a 2D half-plane, D*(D/2+1).</summary>
    public static int HalfPlaneLength(int boxSize) => checked(boxSize * HalfWidth(boxSize));

    /// <summary>Complex values in a 3D half-space, D*D*(D/2+1).</summary>
    public static int HalfSpaceLength(int boxSize) => checked(boxSize * boxSize * HalfWidth(boxSize));

    /// <summary>Signed frequency of a stored row (or z plane): r for r &lt; D/2, r - D otherwise.</summary>
    public static int FrequencyOfRow(int row, int boxSize) => row < boxSize / 2 ? row : row - boxSize;

    /// <summary>Stored row of a signed frequency in [-D/2, D/2): k mod D.</summary>
    public static int RowOfFrequency(int k, int boxSize) => k < 0 ? k + boxSize : k;

    /// <summary>Complex index in the 2D half-plane of (kx, ky), kx in [0, D/2], ky in [-D/2, D/2).</summary>
    public static int HalfPlaneIndex(int kx, int ky, int boxSize) => RowOfFrequency(ky, boxSize) * HalfWidth(boxSize) + kx;

    /// <summary>Complex index in the 3D half-space of (kx, ky, kz), kx in [0, D/2], ky, kz in [-D/2, D/2).</summary>
    public static int HalfSpaceIndex(int kx, int ky, int kz, int boxSize) =>
        (RowOfFrequency(kz, boxSize) * boxSize + RowOfFrequency(ky, boxSize)) * HalfWidth(boxSize) + kx;

    /// <summary>|k|^2, in Fourier pixels squared, of the complex value at <paramref name="index"/> of a 3D half-space.</summary>
    public static int HalfSpaceSquaredRadius(int index, int boxSize)
    {
        int h = HalfWidth(boxSize), kx = index % h, row = index / h;
        int ky = FrequencyOfRow(row % boxSize, boxSize), kz = FrequencyOfRow(row / boxSize, boxSize);
        return kx * kx + ky * ky + kz * kz;
    }

    /// <summary>Hermitian weight of a stored column: 1 for kx = 0 or D/2, 2 otherwise.</summary>
    public static int HermitianWeight(int kx, int boxSize) => kx == 0 || 2 * kx == boxSize ? 1 : 2;

    /// <summary>Throws unless the box size is even and at least 2.</summary>
    public static void ValidateBoxSize(int boxSize, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(boxSize))] string? name = null)
    {
        if (boxSize < 2 || (boxSize & 1) != 0)
            ThrowOddBox(boxSize, name);
    }

    /// <summary>
    /// Weighted inner product of two half-planes or half-spaces, sum w(kx) Re(conj(a) b), accumulated in
    /// double. For Hermitian-consistent arrays it equals the real-space dot product of the images.
    /// </summary>
    /// <param name="a">interleaved complex, D x (D/2+1) or D x D x (D/2+1)</param>
    /// <param name="b">same shape as <paramref name="a"/></param>
    public static double WeightedInnerProduct(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int boxSize)
    {
        if (a.Length != b.Length) throw new ArgumentException("length mismatch", nameof(b));
        int h = HalfWidth(boxSize);
        if (a.Length % (2 * h) != 0) throw new ArgumentException($"length {a.Length} is not a multiple of 2*(D/2+1)", nameof(a));
        int rows = a.Length / (2 * h);
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            int o = 2 * r * h;
            double s = 0;
            for (int c = 0; c < h; c++)
            {
                int i = o + 2 * c;
                double v = (double)a[i] * b[i] + (double)a[i + 1] * b[i + 1];
                s += HermitianWeight(c, boxSize) * v;
            }
            sum += s;
        }
        return sum;
    }

    [DoesNotReturn]
    private static void ThrowOddBox(int boxSize, string? name) =>
        throw new ArgumentOutOfRangeException(name, boxSize,
            "box size must be even and >= 2: the phase origin at D/2 and the half-plane layout assume an even box");
}
