using System.Numerics.Tensors;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Projection;
using CryoFlow.Numerics.Resampling;

namespace CryoFlow.Numerics.Evaluation;

/// <summary>A pose's score at one level: normalised correlation and the best shift (voxels of the full box).</summary>
internal readonly record struct LevelScore(double Score, Shift3 ShiftVoxels);

/// <summary>
/// Scores rotations of map b against map a at one resolution: the normalised correlation of a and
/// <see cref="MapTransform"/>(b; R, hand, t) over the Fourier coefficients 0 &lt; |k| &lt;= r (r in Fourier pixels
/// of the full box D), maximised over the shift t.
/// <para>The maps are compared on a small box Dc (the smallest power of two &gt;= 2r + 2, at most D): a's
/// coefficients are taken from its D-box transform, b is Fourier-cropped to Dc and its transform zero-padded 2x
/// for trilinear sampling at M R^T k. For a rotation, one inverse FFT of Dc^3 gives the correlation at every
/// circular shift (t in [-Dc/2, Dc/2) voxels of Dc, scaled by D/Dc); the peak is refined per axis by a parabola
/// through its neighbours. <see cref="PolishLast"/> then maximises the correlation over continuous t by Newton steps on
/// the coefficients themselves. The correlation leaves out k = 0, so map offsets and scales do not matter.</para>
/// <para>Immutable after construction and shared by threads; per-thread buffers live in <see cref="Workspace"/>.</para>
/// </summary>
internal sealed class AlignmentLevel
{
    private const int Oversampling = 2;
    private readonly int[] _kx, _ky, _kz, _slot, _partner;
    private readonly float[] _a;
    private readonly double[]? _weightB;
    private readonly double _normA;
    private readonly FourierVolume _b;
    private readonly IFft3D _plan;

    /// <param name="aTransform">half-space transform of a in the D box (<see cref="FourierLayout"/>)</param>
    /// <param name="b">D^3 voxels of b</param>
    /// <param name="boxSize">D</param>
    /// <param name="radius">r, 1 &lt;= r &lt; D/2</param>
    /// <param name="fft">FFT backend</param>
    /// <param name="shellWeights">null: plain coefficients; otherwise (a, b) weights per shell round(|k|) (index 0..r),
    /// multiplied into each map's coefficients before the correlation (<see cref="ShellWeights.Whitening"/>)</param>
    public AlignmentLevel(ReadOnlySpan<float> aTransform, ReadOnlySpan<float> b, int boxSize, int radius, IFftBackend fft,
        (double[] A, double[] B)? shellWeights = null)
    {
        if (radius < 1 || 2 * radius >= boxSize)
            throw new ArgumentOutOfRangeException(nameof(radius), radius, $"level radius must be in [1, D/2) for D = {boxSize}");
        BoxSize = boxSize;
        Radius = radius;
        CorrelationBox = CorrelationBoxFor(boxSize, radius);
        int d = boxSize, dc = CorrelationBox;

        // one representative per conjugate pair: kx > 0, or kx = 0 with (ky, kz) in the upper half
        var reps = new List<(int X, int Y, int Z)>();
        int r2 = radius * radius;
        for (int kz = -radius; kz <= radius; kz++)
            for (int ky = -radius; ky <= radius; ky++)
                for (int kx = 0; kx <= radius; kx++)
                {
                    int k2 = kx * kx + ky * ky + kz * kz;
                    if (k2 == 0 || k2 > r2) continue;
                    if (kx == 0 && (ky < 0 || (ky == 0 && kz < 0))) continue;
                    reps.Add((kx, ky, kz));
                }
        int n = reps.Count;
        _kx = new int[n];
        _ky = new int[n];
        _kz = new int[n];
        _slot = new int[n];
        _partner = new int[n];
        _a = new float[2 * n];
        if (shellWeights is { } sw && (sw.A.Length <= radius || sw.B.Length <= radius))
            throw new ArgumentException($"shell weights must cover shells 0..{radius}", nameof(shellWeights));
        _weightB = shellWeights is null ? null : new double[n];
        double normA = 0;
        for (int j = 0; j < n; j++)
        {
            var (kx, ky, kz) = reps[j];
            _kx[j] = kx;
            _ky[j] = ky;
            _kz[j] = kz;
            _slot[j] = FourierLayout.HalfSpaceIndex(kx, ky, kz, dc);
            _partner[j] = kx == 0 ? FourierLayout.HalfSpaceIndex(0, -ky, -kz, dc) : -1;
            int ia = 2 * FourierLayout.HalfSpaceIndex(kx, ky, kz, d);
            double wa = 1;
            if (shellWeights is { } w)
            {
                int shell = ShellWeights.ShellOf(kx, ky, kz);
                wa = w.A[shell];
                _weightB![j] = w.B[shell];
            }
            _a[2 * j] = (float)(wa * aTransform[ia]);
            _a[2 * j + 1] = (float)(wa * aTransform[ia + 1]);
            normA += (double)_a[2 * j] * _a[2 * j] + (double)_a[2 * j + 1] * _a[2 * j + 1];
        }
        _normA = normA;
        Count = n;

        var cropped = dc == d ? b.ToArray() : FourierResampler.ResampleVolume(b, d, dc, fft);
        var projector = new VolumeProjector(dc, new ProjectorOptions(Oversampling, false, InterpolationKernel.Linear), fft);
        _b = projector.CreateFourierVolume();
        projector.Transform(cropped, _b);
        _plan = fft.Plan3D(dc);
    }

    /// <summary>D, the full box.</summary>
    public int BoxSize { get; }

    /// <summary>r: coefficients with 0 &lt; |k| &lt;= r take part.</summary>
    public int Radius { get; }

    /// <summary>Dc: the box of the shift search.</summary>
    public int CorrelationBox { get; }

    /// <summary>Representatives (one per conjugate pair).</summary>
    public int Count { get; }

    /// <summary>True when map a has no contrast at this level (every coefficient zero).</summary>
    public bool ReferenceIsFlat => !(_normA > 0);

    /// <summary>Dc for a radius: the smallest power of two holding |k| &lt;= r without the Nyquist plane, at most D.</summary>
    public static int CorrelationBoxFor(int boxSize, int radius)
    {
        int dc = 2;
        while (dc < 2 * radius + 2) dc *= 2;
        return Math.Min(dc, boxSize);
    }

    public Workspace CreateWorkspace() => new(this);

    /// <summary>Best circular shift (FFT) and its parabola-refined correlation for one rotation and hand.</summary>
    public LevelScore Score(in Rotation3 rotation, MapHand hand, Workspace ws)
    {
        double normG = Sample(rotation, hand, ws.G);
        ws.NormG = normG;
        int dc = CorrelationBox;
        var hbuf = ws.H;
        ReadOnlySpan<double> g = ws.G;
        for (int j = 0; j < _slot.Length; j++)
        {
            double ar = _a[2 * j], ai = _a[2 * j + 1], gr = g[2 * j], gi = g[2 * j + 1];
            // A conj(G): its inverse transform at x is the correlation at shift t = x - Dc/2
            float cr = (float)(ar * gr + ai * gi), ci = (float)(ai * gr - ar * gi);
            int s = 2 * _slot[j];
            hbuf[s] = cr;
            hbuf[s + 1] = ci;
            int p = _partner[j];
            if (p >= 0)
            {
                hbuf[2 * p] = cr;
                hbuf[2 * p + 1] = -ci;
            }
        }
        var real = ws.Real;
        _plan.Inverse(hbuf, real);
        int peak = TensorPrimitives.IndexOfMax(real);
        int px = peak % dc, py = peak / dc % dc, pz = peak / (dc * dc);
        double c0 = real[peak];
        var (ox, vx) = Parabola(real[Index(px - 1, py, pz, dc)], c0, real[Index(px + 1, py, pz, dc)]);
        var (oy, vy) = Parabola(real[Index(px, py - 1, pz, dc)], c0, real[Index(px, py + 1, pz, dc)]);
        var (oz, vz) = Parabola(real[Index(px, py, pz - 1, dc)], c0, real[Index(px, py, pz + 1, dc)]);
        double value = c0 + vx + vy + vz;
        double scale = (double)BoxSize / dc;
        var shift = new Shift3(Wrap(px + ox - dc / 2, dc) * scale, Wrap(py + oy - dc / 2, dc) * scale, Wrap(pz + oz - dc / 2, dc) * scale);
        return new LevelScore(Normalise(value * Math.Sqrt((double)dc * dc * dc), normG), shift);
    }

    /// <summary>
    /// The best shift near <paramref name="start"/> for a rotation (no FFT): samples the turned b and runs
    /// <see cref="PolishLast"/> from <paramref name="start"/>. For small rotation steps from a pose whose shift is known.
    /// </summary>
    public LevelScore ScoreNear(in Rotation3 rotation, MapHand hand, Shift3 start, Workspace ws)
    {
        ws.NormG = Sample(rotation, hand, ws.G);
        return PolishLast(start, ws);
    }

    /// <summary>
    /// For the rotation and hand of the last <see cref="Score"/> or <see cref="ScoreNear"/> call on <paramref name="ws"/>: maximises the
    /// correlation over continuous shifts from <paramref name="start"/> (voxels of D) by Newton steps on
    /// f(t) = sum Re(A conj(G) exp(2 pi i k.t / D)). Stops when a step is below 1e-4 voxel, does not improve f, the
    /// Hessian is not negative definite, or after 8 steps; steps are capped at half a voxel of the correlation box.
    /// </summary>
    public LevelScore PolishLast(Shift3 start, Workspace ws)
    {
        double normG = ws.NormG;
        ReadOnlySpan<double> g = ws.G;
        var c = ws.C;
        for (int j = 0; j < _slot.Length; j++)
        {
            double ar = _a[2 * j], ai = _a[2 * j + 1], gr = g[2 * j], gi = g[2 * j + 1];
            c[2 * j] = ar * gr + ai * gi;
            c[2 * j + 1] = ai * gr - ar * gi;
        }
        double maxStep = 0.5 * BoxSize / CorrelationBox;
        var t = start;
        double f = Evaluate(t, ws, out var grad, out var hess);
        for (int iter = 0; iter < 8; iter++)
        {
            if (!SolveNegativeDefinite(hess, grad, out var step)) break;
            double len = Math.Sqrt(step.X * step.X + step.Y * step.Y + step.Z * step.Z);
            if (len > maxStep) step = step.Scale(maxStep / len);
            var trial = new Shift3(t.X + step.X, t.Y + step.Y, t.Z + step.Z);
            double ft = Evaluate(trial, ws, out var gt, out var ht);
            if (ft < f) break;
            t = trial;
            f = ft;
            grad = gt;
            hess = ht;
            if (len < 1e-4) break;
        }
        return new LevelScore(Normalise(2 * f, normG), t);
    }

    /// <summary>
    /// G_j = B(M R^T k_j) by trilinear interpolation of the padded transform; returns sum |G_j|^2. Written out
    /// rather than through <see cref="FourierInterpolation"/> because it is the search's inner loop: with the sample
    /// mirrored to qx &gt;= 0 every tap has ix &gt;= 0, and |q| = 2|k| &lt;= 2r &lt; Dp/2 keeps every tap inside the grid.
    /// </summary>
    private double Sample(in Rotation3 rotation, MapHand hand, Span<double> g)
    {
        ReadOnlySpan<float> v = _b.Values;
        var r = rotation;
        double p = Oversampling, pz = hand == MapHand.Mirrored ? -p : p;
        int dp = _b.PaddedSize, hp = dp / 2 + 1, plane = dp * hp;
        double norm = 0;
        for (int j = 0; j < _kx.Length; j++)
        {
            int kx = _kx[j], ky = _ky[j], kz = _kz[j];
            double qx = p * (r.M00 * kx + r.M10 * ky + r.M20 * kz);
            double qy = p * (r.M01 * kx + r.M11 * ky + r.M21 * kz);
            double qz = pz * (r.M02 * kx + r.M12 * ky + r.M22 * kz);
            double conj = 1;
            if (qx < 0)
            {
                qx = -qx;
                qy = -qy;
                qz = -qz;
                conj = -1;
            }
            double flx = Math.Floor(qx), fly = Math.Floor(qy), flz = Math.Floor(qz);
            int x0 = (int)flx, y0 = (int)fly, z0 = (int)flz;
            double fx = qx - flx, fy = qy - fly, fz = qz - flz;
            int ry0 = y0 < 0 ? y0 + dp : y0, ry1 = y0 + 1 < 0 ? y0 + 1 + dp : y0 + 1;
            int rz0 = z0 < 0 ? z0 + dp : z0, rz1 = z0 + 1 < 0 ? z0 + 1 + dp : z0 + 1;
            int i00 = 2 * (rz0 * plane + ry0 * hp + x0), i01 = 2 * (rz0 * plane + ry1 * hp + x0);
            int i10 = 2 * (rz1 * plane + ry0 * hp + x0), i11 = 2 * (rz1 * plane + ry1 * hp + x0);
            double gx = 1 - fx, gy = 1 - fy, gz = 1 - fz;
            double re00 = gx * v[i00] + fx * v[i00 + 2], im00 = gx * v[i00 + 1] + fx * v[i00 + 3];
            double re01 = gx * v[i01] + fx * v[i01 + 2], im01 = gx * v[i01 + 1] + fx * v[i01 + 3];
            double re10 = gx * v[i10] + fx * v[i10 + 2], im10 = gx * v[i10 + 1] + fx * v[i10 + 3];
            double re11 = gx * v[i11] + fx * v[i11 + 2], im11 = gx * v[i11 + 1] + fx * v[i11 + 3];
            double re = gz * (gy * re00 + fy * re01) + fz * (gy * re10 + fy * re11);
            double im = conj * (gz * (gy * im00 + fy * im01) + fz * (gy * im10 + fy * im11));
            if (_weightB is not null)
            {
                re *= _weightB[j];
                im *= _weightB[j];
            }
            g[2 * j] = re;
            g[2 * j + 1] = im;
            norm += re * re + im * im;
        }
        return norm;
    }

    /// <summary>sum_j Re(C_j e^{i theta_j}) over representatives, its gradient and Hessian in t (voxels of D).</summary>
    private double Evaluate(Shift3 t, Workspace ws, out Shift3 grad, out Symmetric3 hess)
    {
        int r = Radius;
        FillPhases(ws.PhaseX, r, t.X);
        FillPhases(ws.PhaseY, r, t.Y);
        FillPhases(ws.PhaseZ, r, t.Z);
        ReadOnlySpan<double> ex = ws.PhaseX, ey = ws.PhaseY, ez = ws.PhaseZ;
        ReadOnlySpan<double> c = ws.C;
        double f = 0, gx = 0, gy = 0, gz = 0, hxx = 0, hyy = 0, hzz = 0, hxy = 0, hxz = 0, hyz = 0;
        for (int j = 0; j < _kx.Length; j++)
        {
            int kx = _kx[j], ky = _ky[j], kz = _kz[j];
            int ix = 2 * (kx + r), iy = 2 * (ky + r), iz = 2 * (kz + r);
            double yzr = ey[iy] * ez[iz] - ey[iy + 1] * ez[iz + 1];
            double yzi = ey[iy] * ez[iz + 1] + ey[iy + 1] * ez[iz];
            double er = yzr * ex[ix] - yzi * ex[ix + 1];
            double ei = yzr * ex[ix + 1] + yzi * ex[ix];
            double re = c[2 * j] * er - c[2 * j + 1] * ei;
            double im = c[2 * j] * ei + c[2 * j + 1] * er;
            f += re;
            gx -= im * kx;
            gy -= im * ky;
            gz -= im * kz;
            hxx -= re * kx * kx;
            hyy -= re * ky * ky;
            hzz -= re * kz * kz;
            hxy -= re * kx * ky;
            hxz -= re * kx * kz;
            hyz -= re * ky * kz;
        }
        double w = 2 * Math.PI / BoxSize, w2 = w * w;
        grad = new Shift3(gx * w, gy * w, gz * w);
        hess = new Symmetric3(hxx * w2, hxy * w2, hxz * w2, hyy * w2, hyz * w2, hzz * w2);
        return f;
    }

    /// <summary>e^{+2 pi i k t / D} for k = -r..r at [2(k + r)].</summary>
    private void FillPhases(Span<double> table, int r, double t)
    {
        for (int k = -r; k <= r; k++)
        {
            double a = 2 * Math.PI * k * t / BoxSize;
            table[2 * (k + r)] = Math.Cos(a);
            table[2 * (k + r) + 1] = Math.Sin(a);
        }
    }

    /// <summary>Newton step -H^-1 g for a negative definite H (Cholesky of -H); false otherwise.</summary>
    private static bool SolveNegativeDefinite(in Symmetric3 h, Shift3 g, out Shift3 step)
    {
        step = default;
        // -H = L L^T
        double a00 = -h.Xx, a01 = -h.Xy, a02 = -h.Xz, a11 = -h.Yy, a12 = -h.Yz, a22 = -h.Zz;
        if (!(a00 > 0)) return false;
        double l00 = Math.Sqrt(a00), l10 = a01 / l00, l20 = a02 / l00;
        double d1 = a11 - l10 * l10;
        if (!(d1 > 0)) return false;
        double l11 = Math.Sqrt(d1), l21 = (a12 - l20 * l10) / l11;
        double d2 = a22 - l20 * l20 - l21 * l21;
        if (!(d2 > 0)) return false;
        double l22 = Math.Sqrt(d2);
        // (-H) s = g  =>  s = -H^-1 g is the Newton step for a maximum
        double y0 = g.X / l00, y1 = (g.Y - l10 * y0) / l11, y2 = (g.Z - l20 * y0 - l21 * y1) / l22;
        double s2 = y2 / l22, s1 = (y1 - l21 * s2) / l11, s0 = (y0 - l10 * s1 - l20 * s2) / l00;
        step = new Shift3(s0, s1, s2);
        return true;
    }

    /// <summary>Correlation over the full sphere (both members of each pair) divided by the norms.</summary>
    private double Normalise(double fullSphereCorrelation, double normG)
    {
        double denom = 2 * Math.Sqrt(_normA * normG);
        return denom > 0 ? fullSphereCorrelation / denom : 0;
    }

    /// <summary>Vertex offset (in [-0.5, 0.5]) and value gain of the parabola through three samples around a maximum.</summary>
    private static (double Offset, double Gain) Parabola(double minus, double centre, double plus)
    {
        double curvature = minus - 2 * centre + plus;
        if (!(curvature < 0)) return (0, 0);
        double offset = Math.Clamp(0.5 * (minus - plus) / curvature, -0.5, 0.5);
        return (offset, 0.5 * (plus - minus) * offset + 0.5 * curvature * offset * offset);
    }

    private static int Index(int x, int y, int z, int d) =>
        ((((z % d) + d) % d * d) + (((y % d) + d) % d)) * d + (((x % d) + d) % d);

    private static double Wrap(double t, int d)
    {
        if (t >= d / 2.0) return t - d;
        if (t < -d / 2.0) return t + d;
        return t;
    }

    /// <summary>A symmetric 3x3 matrix (the Hessian in t).</summary>
    private readonly record struct Symmetric3(double Xx, double Xy, double Xz, double Yy, double Yz, double Zz);

    /// <summary>Per-thread buffers for one level.</summary>
    internal sealed class Workspace
    {
        public Workspace(AlignmentLevel level)
        {
            int dc = level.CorrelationBox;
            G = new double[2 * level.Count];
            C = new double[2 * level.Count];
            H = new float[2 * FourierLayout.HalfSpaceLength(dc)];
            Real = new float[dc * dc * dc];
            int taps = 2 * (2 * level.Radius + 1);
            PhaseX = new double[taps];
            PhaseY = new double[taps];
            PhaseZ = new double[taps];
        }

        /// <summary>Sampled coefficients of the turned b, interleaved complex, one per representative.</summary>
        public double[] G { get; }

        /// <summary>sum |G|^2 of the last <see cref="Score"/>.</summary>
        public double NormG { get; set; }

        /// <summary>A conj(G) per representative, for <see cref="PolishLast"/>.</summary>
        public double[] C { get; }

        /// <summary>Half-space product of the correlation box: zero except on the sphere, which every call overwrites.</summary>
        public float[] H { get; }

        /// <summary>Dc^3 correlation values.</summary>
        public float[] Real { get; }

        public double[] PhaseX { get; }

        public double[] PhaseY { get; }

        public double[] PhaseZ { get; }
    }
}
