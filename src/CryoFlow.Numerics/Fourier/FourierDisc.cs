namespace CryoFlow.Numerics.Fourier;

/// <summary>
/// The Fourier coefficients CryoFlow works with at one cutoff: every integer frequency k = (kx, ky) of a
/// D x D image with |k| &lt; r (strict), one representative per conjugate pair.
/// <list type="bullet">
/// <item><b>Selection</b>: kx &gt; 0 (any ky), or kx = 0 with ky &gt;= 0. Since r &lt;= D/2, no point lies on a
/// Nyquist row or column, so the only self-conjugate point is the origin.</item>
/// <item><b>Multiplicity</b> m_k: 1 for k = 0, 2 for every other point (its partner -k is implied). So
/// sum_k m_k g(k) over the disc equals the sum of g over the full disc of a Hermitian g, and
/// <see cref="FullDiscCount"/> = sum m_k is the reference code's N_T.</item>
/// <item><b>Order</b>: by |k|^2 ascending, ties by ky then kx ascending. Point 0 is the origin, and the disc of
/// any smaller radius is a prefix of this list (<see cref="CountWithin"/>).</item>
/// <item><b>Values on the disc</b>: interleaved complex floats, point j at [2j], [2j+1]; the inner product is
/// &lt;a, b&gt;_m = sum_j m_j Re(conj(a_j) b_j), equal to the real-space dot product of the two band-limited
/// images. Every adjoint in CryoFlow's projection code is taken with respect to this inner product.</item>
/// </list>
/// Immutable and safe to share between threads.
/// </summary>
public sealed class FourierDisc
{
    private readonly int[] _kx, _ky, _index;
    private readonly float[] _m;

    /// <param name="boxSize">D, even</param>
    /// <param name="radius">cutoff r in Fourier pixels (r = w* D apix), 0 &lt; r &lt;= D/2</param>
    public FourierDisc(int boxSize, double radius)
    {
        FourierLayout.ValidateBoxSize(boxSize);
        if (!(radius > 0) || radius > boxSize / 2.0)
            throw new ArgumentOutOfRangeException(nameof(radius), radius, $"disc radius must be in (0, D/2] = (0, {boxSize / 2}]");
        BoxSize = boxSize;
        Radius = radius;
        int rmax = (int)Math.Ceiling(radius);
        double r2 = radius * radius;
        var pts = new List<(int Kx, int Ky, int K2)>();
        for (int ky = -rmax; ky <= rmax; ky++)
            for (int kx = 0; kx <= rmax; kx++)
            {
                if (kx == 0 && ky < 0) continue;
                int k2 = kx * kx + ky * ky;
                if (k2 < r2) pts.Add((kx, ky, k2));
            }
        pts.Sort((a, b) => a.K2 != b.K2 ? a.K2.CompareTo(b.K2) : a.Ky != b.Ky ? a.Ky.CompareTo(b.Ky) : a.Kx.CompareTo(b.Kx));
        Count = pts.Count;
        _kx = new int[Count];
        _ky = new int[Count];
        _index = new int[Count];
        _m = new float[Count];
        int full = 0;
        for (int j = 0; j < Count; j++)
        {
            var (kx, ky, _) = pts[j];
            _kx[j] = kx;
            _ky[j] = ky;
            _index[j] = FourierLayout.HalfPlaneIndex(kx, ky, boxSize);
            _m[j] = kx == 0 && ky == 0 ? 1f : 2f;
            full += (int)_m[j];
        }
        FullDiscCount = full;
    }

    /// <summary>Box size D of the images the disc indexes.</summary>
    public int BoxSize { get; }

    /// <summary>Cutoff radius r in Fourier pixels (strict: |k| &lt; r).</summary>
    public double Radius { get; }

    /// <summary>Number of stored points.</summary>
    public int Count { get; }

    /// <summary>Number of points in the full disc, sum of multiplicities (2 Count - 1).</summary>
    public int FullDiscCount { get; }

    /// <summary>Integer frequency along x (columns) of each point, >= 0.</summary>
    public ReadOnlySpan<int> Kx => _kx;

    /// <summary>Integer frequency along y (rows) of each point, signed.</summary>
    public ReadOnlySpan<int> Ky => _ky;

    /// <summary>Multiplicity m of each point (1 at the origin, else 2), as float for kernels.</summary>
    public ReadOnlySpan<float> Multiplicity => _m;

    /// <summary>Complex index of each point in the D x (D/2+1) half-plane (floats at 2i, 2i+1).</summary>
    public ReadOnlySpan<int> HalfPlaneIndex => _index;

    /// <summary>Number of leading points with |k| &lt; <paramref name="radius"/> (the disc of that radius).</summary>
    public int CountWithin(double radius)
    {
        double r2 = radius * radius;
        int lo = 0, hi = Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            int k2 = _kx[mid] * _kx[mid] + _ky[mid] * _ky[mid];
            if (k2 < r2) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>Copy the disc's coefficients out of a half-plane.</summary>
    /// <param name="halfPlane">interleaved complex, D x (D/2+1)</param>
    /// <param name="disc">receives 2*Count floats</param>
    public void Gather(ReadOnlySpan<float> halfPlane, Span<float> disc)
    {
        CheckHalfPlane(halfPlane.Length);
        CheckDisc(disc.Length);
        for (int j = 0; j < Count; j++)
        {
            int i = 2 * _index[j];
            disc[2 * j] = halfPlane[i];
            disc[2 * j + 1] = halfPlane[i + 1];
        }
    }

    /// <summary>
    /// Write disc values into a zeroed half-plane, Hermitian-consistently: the kx = 0 points also set their
    /// partner (0, -ky) to the conjugate. The inverse FFT of the result is the real band-limited image whose
    /// disc coefficients are <paramref name="disc"/> (the imaginary part of the origin is ignored).
    /// Under &lt;.,.&gt;_m on the disc and the weighted half-plane inner product this is the adjoint of
    /// <see cref="Gather"/> followed by the Hermitian symmetrisation the inverse FFT applies anyway.
    /// </summary>
    /// <param name="disc">2*Count floats</param>
    /// <param name="halfPlane">receives D x (D/2+1) interleaved complex; points off the disc are set to 0</param>
    public void Scatter(ReadOnlySpan<float> disc, Span<float> halfPlane)
    {
        CheckHalfPlane(halfPlane.Length);
        CheckDisc(disc.Length);
        halfPlane.Clear();
        for (int j = 0; j < Count; j++)
        {
            int i = 2 * _index[j];
            float re = disc[2 * j], im = disc[2 * j + 1];
            halfPlane[i] = re;
            halfPlane[i + 1] = im;
            if (_kx[j] == 0 && _ky[j] != 0)
            {
                int p = 2 * FourierLayout.HalfPlaneIndex(0, -_ky[j], BoxSize);
                halfPlane[p] = re;
                halfPlane[p + 1] = -im;
            }
        }
    }

    /// <summary>&lt;a, b&gt;_m = sum_j m_j Re(conj(a_j) b_j), accumulated in double.</summary>
    public double InnerProduct(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        CheckDisc(a.Length);
        CheckDisc(b.Length);
        double s = 0;
        for (int j = 0; j < Count; j++)
            s += _m[j] * ((double)a[2 * j] * b[2 * j] + (double)a[2 * j + 1] * b[2 * j + 1]);
        return s;
    }

    private void CheckDisc(int length)
    {
        if (length != 2 * Count)
            throw new ArgumentException($"disc buffer has {length} floats, expected 2*Count = {2 * Count}");
    }

    private void CheckHalfPlane(int length)
    {
        int expected = 2 * FourierLayout.HalfPlaneLength(BoxSize);
        if (length != expected)
            throw new ArgumentException($"half-plane buffer has {length} floats, expected {expected} for D = {BoxSize}");
    }
}
