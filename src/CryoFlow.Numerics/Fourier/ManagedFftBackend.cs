using System.Collections.Concurrent;
using MathNet.Numerics;
using MathNet.Numerics.IntegralTransforms;
using Dft = MathNet.Numerics.IntegralTransforms.Fourier;

namespace CryoFlow.Numerics.Fourier;

/// <summary>
/// Pure managed FFT backend on MathNet.Numerics' 1D complex transforms, by row-column decomposition.
/// Real rows are transformed two at a time as one complex line. MathNet's radix-2 path is
/// allocation-free for power-of-two lengths below 1024; other lengths go through its Bluestein path,
/// which allocates per line (correct, but use FFTW or a power-of-two box for speed).
/// </summary>
public sealed class ManagedFftBackend : IFftBackend
{
    private readonly ConcurrentDictionary<(int Rank, int Size), IRealFft> _plans = new();

    /// <summary>Process-wide instance.</summary>
    public static ManagedFftBackend Instance { get; } = new();

    public string Name => "managed";

    public IFft2D Plan2D(int boxSize)
    {
        FourierLayout.ValidateBoxSize(boxSize);
        return (IFft2D)_plans.GetOrAdd((2, boxSize), k => new Plan(k.Size, 2));
    }

    public IFft3D Plan3D(int boxSize)
    {
        FourierLayout.ValidateBoxSize(boxSize);
        return (IFft3D)_plans.GetOrAdd((3, boxSize), k => new Plan(k.Size, 3));
    }

    private sealed class Scratch(int d, int complexLength)
    {
        public readonly Complex32[] Line = new Complex32[d];
        private float[]? _temp;
        public float[] Temp => _temp ??= new float[complexLength];
    }

    private sealed class Plan : IFft2D, IFft3D
    {
        private readonly int _d, _h;
        private readonly float _scale;
        private readonly ThreadLocal<Scratch> _scratch;

        public Plan(int d, int rank)
        {
            _d = d;
            _h = FourierLayout.HalfWidth(d);
            Rank = rank;
            RealLength = rank == 2 ? checked(d * d) : checked(d * d * d);
            ComplexLength = checked(2 * (rank == 2 ? FourierLayout.HalfPlaneLength(d) : FourierLayout.HalfSpaceLength(d)));
            _scale = (float)(1.0 / Math.Sqrt((double)RealLength));
            _scratch = new ThreadLocal<Scratch>(() => new Scratch(d, ComplexLength));
        }

        public int BoxSize => _d;
        public int Rank { get; }
        public int RealLength { get; }
        public int ComplexLength { get; }

        public void Forward(ReadOnlySpan<float> real, Span<float> halfComplex)
        {
            FftPacking.CheckLengths(this, real.Length, halfComplex.Length);
            var line = _scratch.Value!.Line;
            int d = _d, h = _h;
            int rows = Rank == 2 ? d : d * d;
            // x: real rows in pairs, one complex FFT per pair, then split the two spectra.
            for (int row = 0; row < rows; row += 2)
            {
                var a = real.Slice(row * d, d);
                var b = real.Slice((row + 1) * d, d);
                for (int x = 0; x < d; x++) line[x] = new Complex32(a[x], b[x]);
                Dft.Forward(line, FourierOptions.NoScaling);
                var oa = halfComplex.Slice(2 * row * h, 2 * h);
                var ob = halfComplex.Slice(2 * (row + 1) * h, 2 * h);
                for (int k = 0; k < h; k++)
                {
                    Complex32 z = line[k], zm = line[k == 0 ? 0 : d - k];
                    oa[2 * k] = 0.5f * (z.Real + zm.Real);
                    oa[2 * k + 1] = 0.5f * (z.Imaginary - zm.Imaginary);
                    ob[2 * k] = 0.5f * (z.Imaginary + zm.Imaginary);
                    ob[2 * k + 1] = -0.5f * (z.Real - zm.Real);
                }
            }
            if (Rank == 2)
            {
                for (int c = 0; c < h; c++)
                    ColumnPass(halfComplex, line, start: c, stride: h, scaleModulate: true, parityBase: c, inverse: false, src: halfComplex);
            }
            else
            {
                for (int z = 0; z < d; z++)
                    for (int c = 0; c < h; c++)
                        ColumnPass(halfComplex, line, start: z * d * h + c, stride: h, scaleModulate: false, parityBase: 0, inverse: false, src: halfComplex);
                for (int y = 0; y < d; y++)
                    for (int c = 0; c < h; c++)
                        ColumnPass(halfComplex, line, start: y * h + c, stride: d * h, scaleModulate: true, parityBase: y + c, inverse: false, src: halfComplex);
            }
        }

        public void Inverse(ReadOnlySpan<float> halfComplex, Span<float> real)
        {
            FftPacking.CheckLengths(this, real.Length, halfComplex.Length);
            var s = _scratch.Value!;
            var line = s.Line;
            Span<float> t = s.Temp;
            int d = _d, h = _h;
            if (Rank == 2)
            {
                for (int c = 0; c < h; c++)
                    ColumnPass(t, line, start: c, stride: h, scaleModulate: true, parityBase: c, inverse: true, src: halfComplex);
            }
            else
            {
                for (int y = 0; y < d; y++)
                    for (int c = 0; c < h; c++)
                        ColumnPass(t, line, start: y * h + c, stride: d * h, scaleModulate: true, parityBase: y + c, inverse: true, src: halfComplex);
                for (int z = 0; z < d; z++)
                    for (int c = 0; c < h; c++)
                        ColumnPass(t, line, start: z * d * h + c, stride: h, scaleModulate: false, parityBase: 0, inverse: true, src: t);
            }
            // x: complex-to-real along rows, two rows per complex FFT (Z = A + iB, A and B Hermitian).
            int rows = Rank == 2 ? d : d * d;
            for (int row = 0; row < rows; row += 2)
            {
                ReadOnlySpan<float> a = t.Slice(2 * row * h, 2 * h);
                ReadOnlySpan<float> b = t.Slice(2 * (row + 1) * h, 2 * h);
                for (int k = 0; k < d; k++)
                {
                    float ar, ai, br, bi;
                    if (k < h)
                    {
                        ar = a[2 * k]; br = b[2 * k];
                        bool selfConjugate = k == 0 || k == d / 2;
                        ai = selfConjugate ? 0 : a[2 * k + 1];
                        bi = selfConjugate ? 0 : b[2 * k + 1];
                    }
                    else
                    {
                        int m = d - k;
                        ar = a[2 * m]; ai = -a[2 * m + 1];
                        br = b[2 * m]; bi = -b[2 * m + 1];
                    }
                    line[k] = new Complex32(ar - bi, ai + br);
                }
                Dft.Inverse(line, FourierOptions.NoScaling);
                var oa = real.Slice(row * d, d);
                var ob = real.Slice((row + 1) * d, d);
                for (int x = 0; x < d; x++)
                {
                    oa[x] = line[x].Real;
                    ob[x] = line[x].Imaginary;
                }
            }
        }

        /// <summary>
        /// One strided complex line of length D: gather from <paramref name="src"/>, transform, scatter into
        /// <paramref name="dst"/>. With <paramref name="scaleModulate"/>, the unitary scale and the (-1)^(r + parityBase)
        /// origin factor are applied after a forward or before an inverse transform.
        /// </summary>
        private void ColumnPass(Span<float> dst, Complex32[] line, int start, int stride, bool scaleModulate, int parityBase, bool inverse, ReadOnlySpan<float> src)
        {
            int d = _d;
            if (inverse && scaleModulate)
            {
                float sgn = (parityBase & 1) == 0 ? _scale : -_scale;
                for (int r = 0; r < d; r++, sgn = -sgn)
                {
                    int i = 2 * (start + r * stride);
                    line[r] = new Complex32(sgn * src[i], sgn * src[i + 1]);
                }
            }
            else
            {
                for (int r = 0; r < d; r++)
                {
                    int i = 2 * (start + r * stride);
                    line[r] = new Complex32(src[i], src[i + 1]);
                }
            }
            if (inverse) Dft.Inverse(line, FourierOptions.NoScaling);
            else Dft.Forward(line, FourierOptions.NoScaling);
            if (!inverse && scaleModulate)
            {
                float sgn = (parityBase & 1) == 0 ? _scale : -_scale;
                for (int r = 0; r < d; r++, sgn = -sgn)
                {
                    int i = 2 * (start + r * stride);
                    dst[i] = sgn * line[r].Real;
                    dst[i + 1] = sgn * line[r].Imaginary;
                }
            }
            else
            {
                for (int r = 0; r < d; r++)
                {
                    int i = 2 * (start + r * stride);
                    dst[i] = line[r].Real;
                    dst[i + 1] = line[r].Imaginary;
                }
            }
        }
    }
}
