using System.Buffers;

namespace CryoFlow.Numerics.Likelihood;

/// <summary>
/// All scratch of <see cref="MarginalLikelihoodKernel"/> for problems up to a
/// <see cref="KernelCapacity"/>, rented from the shared array pools once in the constructor and
/// returned by <see cref="Dispose"/>. One workspace per worker thread, reused across particles; it
/// is not thread-safe. About 5.4 MB (as rented) for N_k = 2,507, N_d = 64, N_p = 16, N_t = 25, D = 128.
/// <para>
/// The shift phases are cached: a call with the same coordinates, box size and shifts as the
/// previous call on this workspace (the exhaustive shift grid) reuses them.
/// </para>
/// </summary>
public sealed class KernelWorkspace : IDisposable
{
    /// <summary>Points per k-panel: the cross-term rows U are built and consumed one panel at a time.</summary>
    internal const int PanelK = ComplexGemm.BlockK;

    /// <summary>
    /// Row stride of a U panel of <paramref name="kc"/> points: kc plus 16 floats, so that
    /// consecutive rows (2 KB apart for a full panel) do not all map to the same few L1 sets when
    /// the gradient GEMM walks down a column strip of U.
    /// </summary>
    internal static int PanelStride(int kc) => kc + 16;

    private readonly List<float[]> _floats = [];
    private readonly List<double[]> _doubles = [];
    private readonly int[] _cachedKx, _cachedKy, _activeRows;
    private readonly float[] _cachedShiftX, _cachedShiftY;
    private readonly float[] _phaseRe, _phaseIm, _tables, _conjImageRe, _conjImageIm, _ctfPower, _slicePower;
    private readonly float[] _crossRowsRe, _crossRowsIm, _crossRe, _sliceTerm, _responsibility;
    private readonly float[] _inPlaneResponsibility, _ctfPowerPanel, _gemmScratch;
    private readonly double[] _imageNorm, _logPosterior, _inPlanePosterior;
    private int _cachedPoints = -1, _cachedShifts = -1, _cachedBox = -1;
    private bool _disposed;

    /// <summary>Rents scratch for problems up to <paramref name="capacity"/>.</summary>
    public KernelWorkspace(KernelCapacity capacity)
    {
        if (capacity.Points < 0 || capacity.Directions < 0 || capacity.InPlaneAngles < 0 || capacity.Shifts < 0 || capacity.BoxSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "sizes must be non-negative and the box size positive");
        Capacity = capacity;
        int nk = capacity.Points, nd = capacity.Directions, np = capacity.InPlaneAngles, nt = capacity.Shifts;
        int rows = checked(np * nt);
        int panel = Math.Min(nk, PanelK);

        _cachedKx = ArrayPool<int>.Shared.Rent(nk);
        _cachedKy = ArrayPool<int>.Shared.Rent(nk);
        _activeRows = ArrayPool<int>.Shared.Rent(Math.Max(rows, 1));
        _cachedShiftX = F(nt);
        _cachedShiftY = F(nt);
        _phaseRe = F(checked(nt * nk));
        _phaseIm = F(checked(nt * nk));
        _tables = F(ShiftPhases.TableLength(capacity.BoxSize));
        _conjImageRe = F(checked(np * nk));
        _conjImageIm = F(checked(np * nk));
        _ctfPower = F(checked(np * nk));
        _slicePower = F(checked(nd * nk));
        _crossRowsRe = F(checked(rows * PanelStride(panel)));
        _crossRowsIm = F(checked(rows * PanelStride(panel)));
        _crossRe = F(checked(rows * nd));
        _sliceTerm = F(checked(np * nd));
        _responsibility = F(checked(rows * nd));
        _inPlaneResponsibility = F(checked(np * nd));
        _ctfPowerPanel = F(checked(nd * panel));
        _gemmScratch = F(Math.Max(ComplexGemm.ScratchLength(nd, nk), RealGemm.ScratchLength(nd, nk)));
        _imageNorm = D(np);
        _logPosterior = D(checked(rows * nd));
        _inPlanePosterior = D(checked(np * nd));
    }

    /// <summary>The largest sizes this workspace serves.</summary>
    public KernelCapacity Capacity { get; }

    /// <summary>Run the scalar reference paths even where SIMD is available (for tests and comparisons).</summary>
    public bool ForceScalar { get; set; }

    /// <summary>Bytes of scratch held (as rented, which may exceed what was asked for).</summary>
    public long RentedBytes => _floats.Sum(a => (long)a.Length * sizeof(float)) + _doubles.Sum(a => (long)a.Length * sizeof(double))
        + (2L * _cachedKx.Length + _activeRows.Length) * sizeof(int);

    /// <summary>[N_t · N_k] Re Φ[t,k].</summary>
    internal Span<float> PhaseRe => _phaseRe;
    /// <summary>[N_t · N_k] Im Φ[t,k].</summary>
    internal Span<float> PhaseIm => _phaseIm;
    /// <summary>Per-shift 1D phase tables (<see cref="ShiftPhases.TableLength"/>).</summary>
    internal Span<float> PhaseTables => _tables;
    /// <summary>[N_p · N_k] Re of conj(A[p,k]) m_k C[p,k].</summary>
    internal Span<float> ConjImageRe => _conjImageRe;
    /// <summary>[N_p · N_k] Im of conj(A[p,k]) m_k C[p,k].</summary>
    internal Span<float> ConjImageIm => _conjImageIm;
    /// <summary>[N_p · N_k] m_k C[p,k]².</summary>
    internal Span<float> CtfPower => _ctfPower;
    /// <summary>[N_d · N_k] |S[d,k]|².</summary>
    internal Span<float> SlicePower => _slicePower;
    /// <summary>[N_p N_t · panel] Re U[(p,t),k] = conj(Φ[t,k] A[p,k]) m_k C[p,k] for one k-panel, active row a at a·<see cref="PanelStride"/>(panel).</summary>
    internal Span<float> CrossRowsRe => _crossRowsRe;
    /// <summary>[N_p N_t · panel] Im U for one k-panel.</summary>
    internal Span<float> CrossRowsIm => _crossRowsIm;
    /// <summary>[N_p N_t · N_d] Re X[(p,t),d] = Re Σ_k U[(p,t),k] S[d,k].</summary>
    internal Span<float> CrossRe => _crossRe;
    /// <summary>[N_p · N_d] Q[p,d] = Σ_k m_k C[p,k]² |S[d,k]|².</summary>
    internal Span<float> SliceTerm => _sliceTerm;
    /// <summary>[N_p N_t] the (p,t) rows U is built for: all of them for the cross term, those with non-negligible γ for the gradient.</summary>
    internal Span<int> ActiveRows => _activeRows;
    /// <summary>[active rows · N_d] γ[(p,t),d] as float for the active rows, the gradient GEMM's left operand.</summary>
    internal Span<float> Responsibility => _responsibility;
    /// <summary>[N_p · N_d] Σ_t γ[(p,t),d] as float (flushed below the gradient floor).</summary>
    internal Span<float> InPlaneResponsibility => _inPlaneResponsibility;
    /// <summary>[N_d · panel] Σ_p (Σ_t γ) m_k C[p,k]² for one k-panel.</summary>
    internal Span<float> CtfPowerPanel => _ctfPowerPanel;
    /// <summary>Packing space for the GEMMs.</summary>
    internal Span<float> GemmScratch => _gemmScratch;
    /// <summary>[N_p] Σ_k m_k |A[p,k]|² in double.</summary>
    internal Span<double> ImageNorm => _imageNorm;
    /// <summary>[N_p N_t · N_d] log posterior, then γ, in double.</summary>
    internal Span<double> LogPosterior => _logPosterior;
    /// <summary>[N_p · N_d] Σ_t γ[(p,t),d] in double.</summary>
    internal Span<double> InPlanePosterior => _inPlanePosterior;

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Fills <see cref="PhaseRe"/>/<see cref="PhaseIm"/> unless the previous call had the same geometry and shifts.</summary>
    internal void UpdatePhases(ReadOnlySpan<int> kx, ReadOnlySpan<int> ky, int boxSize, ReadOnlySpan<float> shiftX, ReadOnlySpan<float> shiftY)
    {
        int nk = kx.Length, nt = shiftX.Length;
        if (_cachedPoints == nk && _cachedShifts == nt && _cachedBox == boxSize
            && kx.SequenceEqual(_cachedKx.AsSpan(0, nk)) && ky.SequenceEqual(_cachedKy.AsSpan(0, nk))
            && shiftX.SequenceEqual(_cachedShiftX.AsSpan(0, nt)) && shiftY.SequenceEqual(_cachedShiftY.AsSpan(0, nt)))
            return;
        _cachedPoints = -1; // invalid until the new phases are complete (Compute may throw)
        ShiftPhases.Compute(kx, ky, boxSize, shiftX, shiftY, PhaseRe, PhaseIm, PhaseTables);
        kx.CopyTo(_cachedKx);
        ky.CopyTo(_cachedKy);
        shiftX.CopyTo(_cachedShiftX);
        shiftY.CopyTo(_cachedShiftY);
        _cachedBox = boxSize;
        _cachedShifts = nt;
        _cachedPoints = nk;
    }

    /// <summary>Returns the scratch to the pools; the workspace cannot be used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var a in _floats) ArrayPool<float>.Shared.Return(a);
        foreach (var a in _doubles) ArrayPool<double>.Shared.Return(a);
        ArrayPool<int>.Shared.Return(_cachedKx);
        ArrayPool<int>.Shared.Return(_cachedKy);
        ArrayPool<int>.Shared.Return(_activeRows);
        _floats.Clear();
        _doubles.Clear();
    }

    private float[] F(int length)
    {
        var a = ArrayPool<float>.Shared.Rent(Math.Max(length, 1));
        _floats.Add(a);
        return a;
    }

    private double[] D(int length)
    {
        var a = ArrayPool<double>.Shared.Rent(Math.Max(length, 1));
        _doubles.Add(a);
        return a;
    }
}
