using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CryoFlow.Numerics.Likelihood;

/// <summary>
/// The per-particle marginal likelihood over a sampled set of poses, its posterior, and its gradient
/// with respect to the slices (DESIGN.md 3, 3.1, 4.2; REFERENCE.md 3.3-3.5).
/// <para>
/// Model, in the slice frame (all inputs described on <see cref="KernelInputs"/>):
/// ll(d,p,t) = −(1/(2σ²)) Σ_k m_k |Φ[t,k] A[p,k] − C[p,k] S[d,k]|², with Φ[t,k] = exp(+2πi (kx tx + ky ty)/D);
/// LL = logsumexp_{d,p,t} (lwD[d] + lwP[p] + lwT[t] + ll(d,p,t)); γ(d,p,t) the normalised posterior.
/// </para>
/// <para>
/// Fast formulation: since |Φ| = 1, |ΦA − CS|² = |A|² + C²|S|² − 2 Re(conj(ΦA) C S), so
/// ll = −(‖A_p‖²_m + Q[p,d] − 2 Re X[(p,t),d]) / (2σ²) with
/// ‖A_p‖²_m = Σ_k m_k |A[p,k]|² (double), Q = (m C²) · |S|²ᵀ (one real GEMM, N_p x N_d), and
/// X = U · Sᵀ (one complex GEMM, N_p N_t x N_d over N_k) where U[(p,t),k] = conj(Φ[t,k] A[p,k]) m_k C[p,k].
/// Only Re X enters anything (ll, γ, the expected error; the gradient uses U itself), so the
/// kernel computes just Re X = Re U · Re Sᵀ − Im U · Im Sᵀ with
/// <see cref="ComplexGemm.MultiplyABtRealPart"/>: half the flops of the full complex product.
/// The gradient G[d,k] = ∂LL/∂Re S + i ∂LL/∂Im S = (m_k/σ²) Σ_{p,t} γ C (ΦA − CS)
/// = (1/σ²) (conj(Y[d,k]) − S[d,k] R[d,k]) with Y = γᵀ · U (real x complex GEMM) and
/// R = (Σ_t γ)ᵀ · (m C²) (real GEMM); note m_k C Φ A = conj(U).
/// </para>
/// <para>
/// Precision: GEMMs in float (see <see cref="ComplexGemm"/>), everything over poses (the per-pose
/// combination, log-sum-exp, marginals, expected error) in double. For N_k = 2,500 the float
/// cross term makes ll accurate to roughly 1e-6 of Σ_k m_k |A| |C S|.
/// </para>
/// <para>
/// U is built and consumed one k-panel (<see cref="ComplexGemm.BlockK"/> points) at a time, so it
/// never exists whole; the gradient pass rebuilds it (6 flops per entry against 4 N_d in the GEMM),
/// and only for the (p,t) rows whose posterior reaches <see cref="GradientFloor"/> somewhere, so
/// a concentrated posterior makes the gradient GEMMs proportionally cheaper.
/// Stateless and thread-safe; all scratch is in the <see cref="KernelWorkspace"/> (one per thread);
/// no allocation.
/// </para>
/// </summary>
public static class MarginalLikelihoodKernel
{
    /// <summary>
    /// Posterior probabilities below this are treated as zero in the gradient, and (p,t) rows with
    /// no entry above it are left out of the gradient GEMMs. The neglected mass is at most
    /// 1e-12 · N_d N_p N_t, which changes G by less than float rounding of its terms; it also keeps
    /// subnormal floats (an order of magnitude slower in FMAs on some CPUs) out of the GEMM.
    /// </summary>
    public const double GradientFloor = 1e-12;

    /// <summary>
    /// Evaluates LL, the posterior summaries and, when <paramref name="output"/> has gradient spans,
    /// the gradient with respect to every slice value.
    /// </summary>
    /// <param name="input">one particle's data, slices, shifts and log-weights</param>
    /// <param name="workspace">scratch sized for at least these sizes; not shared between threads</param>
    /// <param name="output">optional array outputs (empty spans are skipped; no gradient spans = likelihood only)</param>
    /// <returns>LL, the best pose and its probability, the expected squared error</returns>
    /// <remarks>
    /// When no pose has a finite log-weight (or N_d, N_p or N_t is 0), LL = -inf, the marginals and
    /// the gradient are zero and <see cref="KernelResult.Best"/> is <see cref="PoseIndex.None"/>.
    /// </remarks>
    public static KernelResult Evaluate(in KernelInputs input, KernelWorkspace workspace, in KernelOutputs output)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        workspace.ThrowIfDisposed();
        int nk = input.Kx.Length, nd = input.LogWeightDirection.Length, np = input.LogWeightInPlane.Length, nt = input.LogWeightShift.Length;
        Validate(input, workspace.Capacity, output, nk, nd, np, nt);
        bool simd = !workspace.ForceScalar && KernelGuard.SimdAvailable;
        bool gradient = output.WantsGradient;
        int rows = np * nt;
        long poses = (long)rows * nd;

        if (poses == 0 || !HasFinite(input.LogWeightDirection) || !HasFinite(input.LogWeightInPlane) || !HasFinite(input.LogWeightShift))
            return NoPoses(output, poses);

        var ws = workspace;
        ws.UpdatePhases(input.Kx, input.Ky, input.BoxSize, input.ShiftX, input.ShiftY);
        PrepareImages(input, ws, nk, np, simd);
        var slicePower = ws.SlicePower.Slice(0, nd * nk);
        SquaredModulus(input.SliceRe, input.SliceIm, slicePower, simd);

        // Q[p,d] = Σ_k m C² |S|²
        var q = ws.SliceTerm.Slice(0, np * nd);
        RealGemm.MultiplyABt(ws.CtfPower.Slice(0, np * nk), nk, slicePower, nk, q, nd, np, nd, nk, false, ws.GemmScratch, !simd);

        // Re X[(p,t),d] = Re Σ_k U[(p,t),k] S[d,k], panel by panel
        var xRe = ws.CrossRe.Slice(0, rows * nd);
        if (nk == 0) xRe.Clear();
        var allRows = ws.ActiveRows.Slice(0, rows);
        for (int i = 0; i < rows; i++) allRows[i] = i;
        for (int kb = 0; kb < nk; kb += KernelWorkspace.PanelK)
        {
            int kc = Math.Min(KernelWorkspace.PanelK, nk - kb);
            int ldu = KernelWorkspace.PanelStride(kc);
            BuildCrossRows(ws, allRows, nk, nt, kb, kc, ldu, simd);
            ComplexGemm.MultiplyABtRealPart(
                ws.CrossRowsRe.Slice(0, rows * ldu), ws.CrossRowsIm.Slice(0, rows * ldu), ldu,
                input.SliceRe.Slice(kb), input.SliceIm.Slice(kb), nk,
                xRe, nd, rows, nd, kc, kb > 0, ws.GemmScratch, !simd);
        }

        // Per-pose log posterior in double and its maximum; then γ = exp(L − max) / Z. Row by row
        // ((p,t) fixed, N_d long) so each row is touched while it sits in L1.
        var post = ws.LogPosterior.Slice(0, rows * nd);
        var imageNorm = ws.ImageNorm.Slice(0, np);
        ReadOnlySpan<double> lwD = input.LogWeightDirection, lwP = input.LogWeightInPlane, lwT = input.LogWeightShift;
        double inv2s = 0.5 / input.Sigma2;
        double max = double.NegativeInfinity;
        int best = -1;
        for (int p = 0; p < np; p++)
        {
            var qRow = q.Slice(p * nd, nd);
            for (int t = 0; t < nt; t++)
            {
                int i = p * nt + t;
                var lRow = post.Slice(i * nd, nd);
                LogPosteriorRow(lwP[p] + lwT[t] - imageNorm[p] * inv2s, lwD, qRow, xRe.Slice(i * nd, nd), lRow, inv2s);
                int rowBest = TensorPrimitives.IndexOfMax(lRow);
                if (lRow[rowBest] > max) { max = lRow[rowBest]; best = i * nd + rowBest; }
            }
        }
        if (best < 0 || double.IsNegativeInfinity(max))
            return NoPoses(output, poses);

        double z = 0;
        for (int i = 0; i < rows; i++)
        {
            var lRow = post.Slice(i * nd, nd);
            TensorPrimitives.Add(lRow, -max, lRow);
            TensorPrimitives.Exp(lRow, lRow);
            z += TensorPrimitives.Sum(lRow);
        }
        double ll = max + Math.Log(z);
        double invZ = 1.0 / z;

        // Normalise; marginals; Γ_p[p,d] = Σ_t γ; γ as float for the gradient GEMMs. The expected
        // squared error Σ γ (‖A_p‖² + Q[p,d] − 2 Re X) is assembled from the same sums.
        var margD = output.PosteriorDirection;
        var margP = output.PosteriorInPlane;
        var margT = output.PosteriorShift;
        margD.Clear(); margP.Clear(); margT.Clear();
        var gammaP = ws.InPlanePosterior.Slice(0, np * nd);
        gammaP.Clear();
        var gammaF = ws.Responsibility.Slice(0, rows * nd);
        var active = ws.ActiveRows.Slice(0, rows);
        int activeCount = 0;
        double expectedError = 0, crossTerm = 0;
        for (int p = 0; p < np; p++)
        {
            var gp = gammaP.Slice(p * nd, nd);
            double sumP = 0;
            for (int t = 0; t < nt; t++)
            {
                int i = p * nt + t;
                var gRow = post.Slice(i * nd, nd);
                TensorPrimitives.Multiply(gRow, invZ, gRow);
                double sumT = TensorPrimitives.Sum(gRow);
                sumP += sumT;
                if (!margT.IsEmpty) margT[t] += sumT;
                if (!margD.IsEmpty) TensorPrimitives.Add(margD, gRow, margD);
                TensorPrimitives.Add(gp, gRow, gp);
                crossTerm += WeightedSum(gRow, xRe.Slice(i * nd, nd));
                if (gradient && TensorPrimitives.Max(gRow) >= GradientFloor)
                {
                    ToFloatFlushed(gRow, gammaF.Slice(activeCount * nd, nd));
                    active[activeCount++] = i;
                }
            }
            if (!margP.IsEmpty) margP[p] = sumP;
            expectedError += imageNorm[p] * sumP + WeightedSum(gp, q.Slice(p * nd, nd));
        }
        expectedError = Math.Max(0, expectedError - 2 * crossTerm);

        if (gradient)
            Gradient(input, ws, output, active.Slice(0, activeCount), nk, nd, np, nt, simd);

        int bi = best / nd, bd = best % nd;
        return new KernelResult(ll, new PoseIndex(bd, bi / nt, bi % nt), post[best], expectedError, poses, activeCount);
    }

    /// <summary>LL and the posterior summaries only (no marginals written, no gradient).</summary>
    public static KernelResult EvaluateLikelihood(in KernelInputs input, KernelWorkspace workspace) =>
        Evaluate(input, workspace, default);

    /// <summary>
    /// Flops the GEMMs of one call execute: 4 per (row, direction, point) for Re X (two FMAs), 2 per
    /// (in-plane angle, direction, point) for Q; with the gradient, 4 per (row, direction, point) for
    /// Y (real x complex) and 2 per (in-plane angle, direction, point) for R, all rows taken as
    /// active. Elementwise work (phases, U, |S|², the per-pose log-sum-exp) is not counted. The
    /// full complex product X would count 8 per complex multiply-add
    /// (<see cref="ComplexEquivalentFlops"/>).
    /// </summary>
    public static long GemmFlops(int points, int directions, int inPlaneAngles, int shifts, bool gradient)
    {
        long rows = (long)inPlaneAngles * shifts;
        long f = 4 * rows * directions * points + 2L * inPlaneAngles * directions * points;
        if (gradient) f += 4 * rows * directions * points + 2L * inPlaneAngles * directions * points;
        return f;
    }

    /// <summary>
    /// <see cref="GemmFlops"/> with the cross term counted as the issue counts it, 8 flops per complex
    /// multiply-add of the full product U · Sᵀ; the rate this gives is the rate of a kernel that
    /// computed X in full.
    /// </summary>
    public static long ComplexEquivalentFlops(int points, int directions, int inPlaneAngles, int shifts, bool gradient) =>
        GemmFlops(points, directions, inPlaneAngles, shifts, gradient) + 4L * inPlaneAngles * shifts * directions * points;

    // ------------------------------------------------------------------ steps

    private static void Validate(in KernelInputs input, KernelCapacity cap, in KernelOutputs output, int nk, int nd, int np, int nt)
    {
        if (input.BoxSize <= 0) KernelGuard.Throw.Argument(nameof(input.BoxSize), $"box size {input.BoxSize} must be positive");
        if (!(input.Sigma2 > 0) || double.IsInfinity(input.Sigma2)) KernelGuard.Throw.Argument(nameof(input.Sigma2), $"σ² = {input.Sigma2} must be positive and finite");
        if (nk > cap.Points) KernelGuard.Throw.Capacity("points", nk, cap.Points);
        if (nd > cap.Directions) KernelGuard.Throw.Capacity("directions", nd, cap.Directions);
        if (np > cap.InPlaneAngles) KernelGuard.Throw.Capacity("in-plane angles", np, cap.InPlaneAngles);
        if (nt > cap.Shifts) KernelGuard.Throw.Capacity("shifts", nt, cap.Shifts);
        if (input.BoxSize > cap.BoxSize) KernelGuard.Throw.Capacity("box size", input.BoxSize, cap.BoxSize);
        long sliceLen = (long)nd * nk, imageLen = (long)np * nk;
        KernelGuard.Length(input.Ky.Length, nk, nameof(input.Ky));
        KernelGuard.Length(input.Multiplicity.Length, nk, nameof(input.Multiplicity));
        KernelGuard.Length(input.SliceRe.Length, sliceLen, nameof(input.SliceRe));
        KernelGuard.Length(input.SliceIm.Length, sliceLen, nameof(input.SliceIm));
        KernelGuard.Length(input.ImageRe.Length, imageLen, nameof(input.ImageRe));
        KernelGuard.Length(input.ImageIm.Length, imageLen, nameof(input.ImageIm));
        KernelGuard.Length(input.Ctf.Length, imageLen, nameof(input.Ctf));
        KernelGuard.Length(input.ShiftX.Length, nt, nameof(input.ShiftX));
        KernelGuard.Length(input.ShiftY.Length, nt, nameof(input.ShiftY));
        CheckLogWeights(input.LogWeightDirection, nameof(input.LogWeightDirection));
        CheckLogWeights(input.LogWeightInPlane, nameof(input.LogWeightInPlane));
        CheckLogWeights(input.LogWeightShift, nameof(input.LogWeightShift));
        OptionalLength(output.PosteriorDirection.Length, nd, nameof(output.PosteriorDirection));
        OptionalLength(output.PosteriorInPlane.Length, np, nameof(output.PosteriorInPlane));
        OptionalLength(output.PosteriorShift.Length, nt, nameof(output.PosteriorShift));
        if (output.WantsGradient)
        {
            KernelGuard.Length(output.GradientRe.Length, sliceLen, nameof(output.GradientRe));
            KernelGuard.Length(output.GradientIm.Length, sliceLen, nameof(output.GradientIm));
        }
    }

    private static void OptionalLength(int length, int expected, string name)
    {
        if (length != 0 && length != expected) KernelGuard.Throw.Argument(name, $"length {length}, expected {expected} or 0 (skip)");
    }

    private static void CheckLogWeights(ReadOnlySpan<double> lw, string name)
    {
        for (int i = 0; i < lw.Length; i++)
            if (double.IsNaN(lw[i]) || double.IsPositiveInfinity(lw[i]))
                KernelGuard.Throw.Argument(name, $"log-weight [{i}] = {lw[i]}; must be finite or -inf");
    }

    private static bool HasFinite(ReadOnlySpan<double> lw)
    {
        foreach (double v in lw)
            if (!double.IsNegativeInfinity(v)) return true;
        return false;
    }

    private static KernelResult NoPoses(in KernelOutputs output, long poses)
    {
        output.PosteriorDirection.Clear();
        output.PosteriorInPlane.Clear();
        output.PosteriorShift.Clear();
        output.GradientRe.Clear();
        output.GradientIm.Clear();
        return new KernelResult(double.NegativeInfinity, PoseIndex.None, 0, 0, poses, 0);
    }

    /// <summary>l[d] = rowBase + lwD[d] − (Q[d] − 2 Re X[d]) / (2σ²), in double.</summary>
    private static void LogPosteriorRow(double rowBase, ReadOnlySpan<double> lwD, ReadOnlySpan<float> q, ReadOnlySpan<float> x,
        Span<double> l, double inv2s)
    {
        for (int d = 0; d < l.Length; d++)
            l[d] = rowBase + lwD[d] - ((double)q[d] - 2.0 * x[d]) * inv2s;
    }

    /// <summary>Σ w[d] v[d] in double.</summary>
    private static double WeightedSum(ReadOnlySpan<double> w, ReadOnlySpan<float> v)
    {
        double s = 0;
        for (int d = 0; d < w.Length; d++) s += w[d] * v[d];
        return s;
    }

    /// <summary>
    /// γ to float with entries below <see cref="GradientFloor"/> set to zero (as floats many would be
    /// subnormal, which slows FMAs by an order of magnitude on some CPUs).
    /// </summary>
    private static void ToFloatFlushed(ReadOnlySpan<double> g, Span<float> f)
    {
        for (int d = 0; d < g.Length; d++) f[d] = g[d] >= GradientFloor ? (float)g[d] : 0f;
    }

    /// <summary>conj(A) m C, m C² and ‖A_p‖²_m (double) per in-plane angle.</summary>
    private static void PrepareImages(in KernelInputs input, KernelWorkspace ws, int nk, int np, bool simd)
    {
        var m = input.Multiplicity;
        var norms = ws.ImageNorm;
        for (int p = 0; p < np; p++)
        {
            var ar = input.ImageRe.Slice(p * nk, nk);
            var ai = input.ImageIm.Slice(p * nk, nk);
            var c = input.Ctf.Slice(p * nk, nk);
            var br = ws.ConjImageRe.Slice(p * nk, nk);
            var bi = ws.ConjImageIm.Slice(p * nk, nk);
            var cp = ws.CtfPower.Slice(p * nk, nk);
            double norm = 0;
            int k = 0;
            if (simd)
            {
                ref float rAr = ref MemoryMarshal.GetReference(ar), rAi = ref MemoryMarshal.GetReference(ai);
                ref float rC = ref MemoryMarshal.GetReference(c), rM = ref MemoryMarshal.GetReference(m);
                ref float rBr = ref MemoryMarshal.GetReference(br), rBi = ref MemoryMarshal.GetReference(bi);
                ref float rCp = ref MemoryMarshal.GetReference(cp);
                var acc0 = Vector256<double>.Zero;
                var acc1 = Vector256<double>.Zero;
                for (; k + 8 <= nk; k += 8)
                {
                    nuint o = (nuint)k;
                    var vr = Vector256.LoadUnsafe(ref rAr, o);
                    var vi = Vector256.LoadUnsafe(ref rAi, o);
                    var vm = Vector256.LoadUnsafe(ref rM, o);
                    var vmc = vm * Vector256.LoadUnsafe(ref rC, o);
                    (vmc * vr).StoreUnsafe(ref rBr, o);
                    (-(vmc * vi)).StoreUnsafe(ref rBi, o);
                    (vmc * Vector256.LoadUnsafe(ref rC, o)).StoreUnsafe(ref rCp, o);
                    // |A|² is summed in double: widen before squaring so the norm is exact to double rounding.
                    var (rLo, rHi) = Vector256.Widen(vr);
                    var (iLo, iHi) = Vector256.Widen(vi);
                    var (mLo, mHi) = Vector256.Widen(vm);
                    acc0 = Fma.MultiplyAdd(mLo, rLo * rLo + iLo * iLo, acc0);
                    acc1 = Fma.MultiplyAdd(mHi, rHi * rHi + iHi * iHi, acc1);
                }
                norm = Vector256.Sum(acc0 + acc1);
            }
            for (; k < nk; k++)
            {
                float mc = m[k] * c[k];
                br[k] = mc * ar[k];
                bi[k] = -(mc * ai[k]);
                cp[k] = mc * c[k];
                norm += m[k] * ((double)ar[k] * ar[k] + (double)ai[k] * ai[k]);
            }
            norms[p] = norm;
        }
    }

    private static void SquaredModulus(ReadOnlySpan<float> re, ReadOnlySpan<float> im, Span<float> dst, bool simd)
    {
        int n = dst.Length, k = 0;
        if (simd)
        {
            ref float r = ref MemoryMarshal.GetReference(re), i = ref MemoryMarshal.GetReference(im), o = ref MemoryMarshal.GetReference(dst);
            for (; k + 8 <= n; k += 8)
            {
                var a = Vector256.LoadUnsafe(ref r, (nuint)k);
                var b = Vector256.LoadUnsafe(ref i, (nuint)k);
                Fma.MultiplyAdd(a, a, b * b).StoreUnsafe(ref o, (nuint)k);
            }
        }
        for (; k < n; k++) dst[k] = re[k] * re[k] + im[k] * im[k];
    }

    /// <summary>
    /// U[a, q] = conj(Φ[t, kb+q]) · conj(A) m C[p, kb+q] for q in [0, kc), where row a of the panel
    /// (stride ldu) is pose row rows[a] = p·N_t + t.
    /// </summary>
    private static void BuildCrossRows(KernelWorkspace ws, ReadOnlySpan<int> rows, int nk, int nt, int kb, int kc, int ldu, bool simd)
    {
        var uRe = ws.CrossRowsRe;
        var uIm = ws.CrossRowsIm;
        for (int a = 0; a < rows.Length; a++)
        {
            int p = rows[a] / nt, t = rows[a] - p * nt;
            var br = ws.ConjImageRe.Slice(p * nk + kb, kc);
            var bi = ws.ConjImageIm.Slice(p * nk + kb, kc);
            var fr = ws.PhaseRe.Slice(t * nk + kb, kc);
            var fi = ws.PhaseIm.Slice(t * nk + kb, kc);
            var ur = uRe.Slice(a * ldu, kc);
            var ui = uIm.Slice(a * ldu, kc);
            int q = 0;
            if (simd)
            {
                ref float rBr = ref MemoryMarshal.GetReference(br), rBi = ref MemoryMarshal.GetReference(bi);
                ref float rFr = ref MemoryMarshal.GetReference(fr), rFi = ref MemoryMarshal.GetReference(fi);
                ref float rUr = ref MemoryMarshal.GetReference(ur), rUi = ref MemoryMarshal.GetReference(ui);
                for (; q + 8 <= kc; q += 8)
                {
                    nuint o = (nuint)q;
                    var vbr = Vector256.LoadUnsafe(ref rBr, o);
                    var vbi = Vector256.LoadUnsafe(ref rBi, o);
                    var vfr = Vector256.LoadUnsafe(ref rFr, o);
                    var vfi = Vector256.LoadUnsafe(ref rFi, o);
                    Fma.MultiplyAdd(vfr, vbr, vfi * vbi).StoreUnsafe(ref rUr, o);
                    Fma.MultiplyAddNegated(vfi, vbr, vfr * vbi).StoreUnsafe(ref rUi, o);
                }
            }
            for (; q < kc; q++)
            {
                ur[q] = fr[q] * br[q] + fi[q] * bi[q];
                ui[q] = fr[q] * bi[q] - fi[q] * br[q];
            }
        }
    }

    /// <summary>
    /// G = (conj(γᵀ U) − S ∘ ((Σ_t γ)ᵀ m C²)) / σ², panel by panel, written straight into the output,
    /// over the active rows only (γ as float, with entries below <see cref="GradientFloor"/> zeroed).
    /// </summary>
    private static void Gradient(in KernelInputs input, KernelWorkspace ws, in KernelOutputs output, ReadOnlySpan<int> active,
        int nk, int nd, int np, int nt, bool simd)
    {
        int rows = active.Length;
        float invS2 = (float)(1.0 / input.Sigma2);
        var gammaF = ws.Responsibility.Slice(0, rows * nd);
        var gammaP = ws.InPlaneResponsibility.Slice(0, np * nd);
        ToFloatFlushed(ws.InPlanePosterior.Slice(0, np * nd), gammaP);
        for (int kb = 0; kb < nk; kb += KernelWorkspace.PanelK)
        {
            int kc = Math.Min(KernelWorkspace.PanelK, nk - kb);
            int ldu = KernelWorkspace.PanelStride(kc);
            BuildCrossRows(ws, active, nk, nt, kb, kc, ldu, simd);
            // Y[d, kb..] = Σ_(p,t) γ[(p,t),d] U[(p,t), ..]  into the gradient arrays
            ComplexGemm.MultiplyRealAtB(gammaF, nd, ws.CrossRowsRe.Slice(0, rows * ldu), ws.CrossRowsIm.Slice(0, rows * ldu), ldu,
                output.GradientRe.Slice(kb), output.GradientIm.Slice(kb), nk, nd, kc, rows, false, !simd);
            // R[d, q] = Σ_p (Σ_t γ)[p,d] m C²[p, kb+q]
            var r = ws.CtfPowerPanel.Slice(0, nd * kc);
            RealGemm.MultiplyAtB(gammaP, nd, ws.CtfPower.Slice(kb), nk, r, kc, nd, kc, np, false, !simd);
            for (int d = 0; d < nd; d++)
            {
                var gr = output.GradientRe.Slice(d * nk + kb, kc);
                var gi = output.GradientIm.Slice(d * nk + kb, kc);
                var sr = input.SliceRe.Slice(d * nk + kb, kc);
                var si = input.SliceIm.Slice(d * nk + kb, kc);
                var rr = r.Slice(d * kc, kc);
                FinishGradient(gr, gi, sr, si, rr, invS2, simd);
            }
        }
    }

    /// <summary>gr = (Yre − Sre R)/σ², gi = (−Yim − Sim R)/σ² in place (gr, gi hold Y on entry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FinishGradient(Span<float> gr, Span<float> gi, ReadOnlySpan<float> sr, ReadOnlySpan<float> si,
        ReadOnlySpan<float> r, float invS2, bool simd)
    {
        int n = gr.Length, k = 0;
        if (simd)
        {
            ref float rGr = ref MemoryMarshal.GetReference(gr), rGi = ref MemoryMarshal.GetReference(gi);
            ref float rSr = ref MemoryMarshal.GetReference(sr), rSi = ref MemoryMarshal.GetReference(si);
            ref float rR = ref MemoryMarshal.GetReference(r);
            var vs = Vector256.Create(invS2);
            for (; k + 8 <= n; k += 8)
            {
                nuint o = (nuint)k;
                var vr = Vector256.LoadUnsafe(ref rR, o);
                (Fma.MultiplyAddNegated(Vector256.LoadUnsafe(ref rSr, o), vr, Vector256.LoadUnsafe(ref rGr, o)) * vs).StoreUnsafe(ref rGr, o);
                (-Fma.MultiplyAdd(Vector256.LoadUnsafe(ref rSi, o), vr, Vector256.LoadUnsafe(ref rGi, o)) * vs).StoreUnsafe(ref rGi, o);
            }
        }
        for (; k < n; k++)
        {
            gr[k] = (gr[k] - sr[k] * r[k]) * invS2;
            gi[k] = -(gi[k] + si[k] * r[k]) * invS2;
        }
    }
}
