using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CryoFlow.Numerics.Likelihood;

/// <summary>
/// Complex single-precision matrix products on split-complex storage (separate real and imaginary
/// float arrays, row-major, explicit leading dimensions), so the inner loop is pure FMA on
/// <see cref="Vector256{T}"/> with no shuffles.
/// <para>
/// Numerics: products and sums are in float. Each output is a sum of k products accumulated in 8
/// SIMD lanes per k-panel of <see cref="BlockK"/>, then the lanes and panels are added, so the
/// rounding error grows roughly like eps_float * sqrt(k) * sum|a||b| (worst case k * eps); for k =
/// 2,500 that is a relative error of about 1e-6..1e-5 of sum|a_l b_l|. Callers that need more
/// (log-sum-exp, reductions over poses) convert the results to double.
/// </para>
/// <para>
/// Blocking: B is packed per k-panel (4 rows at a time, interleaved re/im per 8-float chunk, zero
/// padded) into caller-provided scratch that stays in L2 (<see cref="BlockK"/> x n x 8 bytes); two
/// rows of A stay in L1 while they meet every packed group. The register tile is 2 rows of A x 4
/// rows of B = 16 Vector256 accumulators (the tile wants the 32 vector registers that AVX-512
/// machines expose to Vector256 code; on AVX2-only machines a few spill).
/// </para>
/// Stateless and thread-safe; no allocation.
/// </summary>
public static class ComplexGemm
{
    /// <summary>Length of the k-panel (floats) over which B is packed and sums are kept in registers.</summary>
    public const int BlockK = 512;

    private const int TileB = 4;                 // rows of B (columns of C) per register tile
    private const int ChunkFloats = TileB * 16;  // one packed 8-wide k-chunk of a group: 4 x (re 8, im 8)

    /// <summary>Scratch floats that <see cref="MultiplyABt"/> needs for given n and k (0 when either is 0).</summary>
    public static int ScratchLength(int n, int k)
    {
        if (n <= 0 || k <= 0) return 0;
        return RoundUp(n, TileB) * RoundUp(Math.Min(k, BlockK), 8) * 2;
    }

    /// <summary>
    /// C = A · Bᵀ (or C += A · Bᵀ), all complex, no conjugation: C[i,j] = Σ_l A[i,l] B[j,l].
    /// </summary>
    /// <param name="aRe">real part of A, m x k row-major, row i at i*lda</param>
    /// <param name="aIm">imaginary part of A, same layout</param>
    /// <param name="lda">elements between rows of A, ≥ k</param>
    /// <param name="bRe">real part of B, n x k row-major (B is given untransposed: row j is column j of Bᵀ)</param>
    /// <param name="bIm">imaginary part of B, same layout</param>
    /// <param name="ldb">elements between rows of B, ≥ k</param>
    /// <param name="cRe">real part of C, m x n row-major</param>
    /// <param name="cIm">imaginary part of C</param>
    /// <param name="ldc">elements between rows of C, ≥ n</param>
    /// <param name="m">rows of A and C</param>
    /// <param name="n">rows of B, columns of C</param>
    /// <param name="k">summed dimension</param>
    /// <param name="accumulate">false: overwrite C; true: add to it</param>
    /// <param name="scratch">at least <see cref="ScratchLength"/>(n, k) floats (the SIMD path packs B there)</param>
    /// <param name="forceScalar">run the scalar reference path even where SIMD is available (tests)</param>
    public static void MultiplyABt(
        ReadOnlySpan<float> aRe, ReadOnlySpan<float> aIm, int lda,
        ReadOnlySpan<float> bRe, ReadOnlySpan<float> bIm, int ldb,
        Span<float> cRe, Span<float> cIm, int ldc,
        int m, int n, int k, bool accumulate, Span<float> scratch, bool forceScalar = false)
    {
        KernelGuard.Matrix(aRe.Length, m, k, lda, nameof(aRe));
        KernelGuard.Matrix(aIm.Length, m, k, lda, nameof(aIm));
        KernelGuard.Matrix(bRe.Length, n, k, ldb, nameof(bRe));
        KernelGuard.Matrix(bIm.Length, n, k, ldb, nameof(bIm));
        KernelGuard.Matrix(cRe.Length, m, n, ldc, nameof(cRe));
        KernelGuard.Matrix(cIm.Length, m, n, ldc, nameof(cIm));
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++)
                {
                    cRe.Slice(i * ldc, n).Clear();
                    cIm.Slice(i * ldc, n).Clear();
                }
            return;
        }
        // checked on every path, so that a short scratch is the same error on every CPU
        KernelGuard.AtLeast(scratch.Length, ScratchLength(n, k), nameof(scratch));
        if (!forceScalar && KernelGuard.SimdAvailable)
        {
            MultiplyABtSimd(aRe, aIm, lda, bRe, bIm, ldb, cRe, cIm, ldc, m, n, k, accumulate, scratch);
        }
        else
        {
            MultiplyABtScalar(aRe, aIm, lda, bRe, bIm, ldb, cRe, cIm, ldc, m, n, k, accumulate);
        }
    }

    /// <summary>
    /// Re C = Re(A · Bᵀ) (or +=): C[i,j] = Σ_l (Re A[i,l] Re B[j,l] − Im A[i,l] Im B[j,l]). Half the
    /// work of <see cref="MultiplyABt"/> (2 FMAs per complex multiply-add instead of 4), for callers
    /// that need only the real part, such as the likelihood's cross term −2 Re(conj(ΦA) C S).
    /// Same layouts, packing and scratch as <see cref="MultiplyABt"/>; the register tile is 4 rows
    /// of A x 4 rows of B (16 accumulators, each fed by two dependent FMAs per chunk).
    /// </summary>
    /// <param name="aRe">real part of A, m x k row-major</param>
    /// <param name="aIm">imaginary part of A</param>
    /// <param name="lda">elements between rows of A, ≥ k</param>
    /// <param name="bRe">real part of B, n x k row-major (untransposed)</param>
    /// <param name="bIm">imaginary part of B</param>
    /// <param name="ldb">elements between rows of B, ≥ k</param>
    /// <param name="cRe">Re C, m x n row-major</param>
    /// <param name="ldc">elements between rows of C, ≥ n</param>
    /// <param name="m">rows of A and C</param>
    /// <param name="n">rows of B, columns of C</param>
    /// <param name="k">summed dimension</param>
    /// <param name="accumulate">false: overwrite C; true: add to it</param>
    /// <param name="scratch">at least <see cref="ScratchLength"/>(n, k) floats</param>
    /// <param name="forceScalar">run the scalar reference path</param>
    public static void MultiplyABtRealPart(
        ReadOnlySpan<float> aRe, ReadOnlySpan<float> aIm, int lda,
        ReadOnlySpan<float> bRe, ReadOnlySpan<float> bIm, int ldb,
        Span<float> cRe, int ldc,
        int m, int n, int k, bool accumulate, Span<float> scratch, bool forceScalar = false)
    {
        KernelGuard.Matrix(aRe.Length, m, k, lda, nameof(aRe));
        KernelGuard.Matrix(aIm.Length, m, k, lda, nameof(aIm));
        KernelGuard.Matrix(bRe.Length, n, k, ldb, nameof(bRe));
        KernelGuard.Matrix(bIm.Length, n, k, ldb, nameof(bIm));
        KernelGuard.Matrix(cRe.Length, m, n, ldc, nameof(cRe));
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) cRe.Slice(i * ldc, n).Clear();
            return;
        }
        // checked on every path, so that a short scratch is the same error on every CPU
        KernelGuard.AtLeast(scratch.Length, ScratchLength(n, k), nameof(scratch));
        if (!forceScalar && KernelGuard.SimdAvailable)
        {
            RealPartSimd(aRe, aIm, lda, bRe, bIm, ldb, cRe, ldc, m, n, k, accumulate, scratch);
            return;
        }
        for (int i = 0; i < m; i++)
        {
            var ar = aRe.Slice(i * lda, k);
            var ai = aIm.Slice(i * lda, k);
            for (int j = 0; j < n; j++)
            {
                var br = bRe.Slice(j * ldb, k);
                var bi = bIm.Slice(j * ldb, k);
                float sr = 0;
                for (int l = 0; l < k; l++) sr += ar[l] * br[l] - ai[l] * bi[l];
                cRe[i * ldc + j] = accumulate ? cRe[i * ldc + j] + sr : sr;
            }
        }
    }

    /// <summary>
    /// C = Aᵀ · B (or +=) with A real and B complex: C[i,j] = Σ_l A[l,i] B[l,j]. Two real
    /// <see cref="RealGemm.MultiplyAtB"/> products sharing A; see there for layouts.
    /// </summary>
    /// <param name="a">real A, k x m row-major (so Aᵀ is m x k)</param>
    /// <param name="lda">elements between rows of A, ≥ m</param>
    /// <param name="bRe">real part of B, k x n row-major</param>
    /// <param name="bIm">imaginary part of B</param>
    /// <param name="ldb">elements between rows of B, ≥ n</param>
    /// <param name="cRe">real part of C, m x n row-major</param>
    /// <param name="cIm">imaginary part of C</param>
    /// <param name="ldc">elements between rows of C, ≥ n</param>
    /// <param name="m">columns of A, rows of C</param>
    /// <param name="n">columns of B and C</param>
    /// <param name="k">rows of A and B (summed)</param>
    /// <param name="accumulate">false: overwrite C; true: add to it</param>
    /// <param name="forceScalar">run the scalar reference path</param>
    public static void MultiplyRealAtB(
        ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> bRe, ReadOnlySpan<float> bIm, int ldb,
        Span<float> cRe, Span<float> cIm, int ldc,
        int m, int n, int k, bool accumulate, bool forceScalar = false)
    {
        RealGemm.MultiplyAtB(a, lda, bRe, ldb, cRe, ldc, m, n, k, accumulate, forceScalar);
        RealGemm.MultiplyAtB(a, lda, bIm, ldb, cIm, ldc, m, n, k, accumulate, forceScalar);
    }

    private static void MultiplyABtScalar(
        ReadOnlySpan<float> aRe, ReadOnlySpan<float> aIm, int lda,
        ReadOnlySpan<float> bRe, ReadOnlySpan<float> bIm, int ldb,
        Span<float> cRe, Span<float> cIm, int ldc,
        int m, int n, int k, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            var ar = aRe.Slice(i * lda, k);
            var ai = aIm.Slice(i * lda, k);
            for (int j = 0; j < n; j++)
            {
                var br = bRe.Slice(j * ldb, k);
                var bi = bIm.Slice(j * ldb, k);
                float sr = 0, si = 0;
                for (int l = 0; l < k; l++)
                {
                    sr += ar[l] * br[l] - ai[l] * bi[l];
                    si += ar[l] * bi[l] + ai[l] * br[l];
                }
                int c = i * ldc + j;
                if (accumulate) { cRe[c] += sr; cIm[c] += si; }
                else { cRe[c] = sr; cIm[c] = si; }
            }
        }
    }

    private static void MultiplyABtSimd(
        ReadOnlySpan<float> aReS, ReadOnlySpan<float> aImS, int lda,
        ReadOnlySpan<float> bReS, ReadOnlySpan<float> bImS, int ldb,
        Span<float> cReS, Span<float> cImS, int ldc,
        int m, int n, int k, bool accumulate, Span<float> scratch)
    {
        ref float aRe = ref MemoryMarshal.GetReference(aReS);
        ref float aIm = ref MemoryMarshal.GetReference(aImS);
        ref float cRe = ref MemoryMarshal.GetReference(cReS);
        ref float cIm = ref MemoryMarshal.GetReference(cImS);
        ref float packed = ref MemoryMarshal.GetReference(scratch);
        // The last partial k-chunk of two A rows, zero padded, so the tail runs through the same
        // vector micro-kernel against the zero-padded packed B chunk.
        Span<float> tailS = stackalloc float[4 * 8];
        ref float tail = ref MemoryMarshal.GetReference(tailS);
        int groups = (n + TileB - 1) / TileB;

        for (int kb = 0; kb < k; kb += BlockK)
        {
            int kc = Math.Min(BlockK, k - kb);
            int chunks = kc >> 3, rem = kc & 7;
            int groupStride = (chunks + (rem > 0 ? 1 : 0)) * ChunkFloats;
            PackB(bReS, bImS, ldb, n, kb, kc, scratch, groupStride);
            bool acc = accumulate || kb > 0;

            int i = 0;
            for (; i + 2 <= m; i += 2)
            {
                ref float a0r = ref Unsafe.Add(ref aRe, (nint)i * lda + kb);
                ref float a0i = ref Unsafe.Add(ref aIm, (nint)i * lda + kb);
                ref float a1r = ref Unsafe.Add(ref aRe, (nint)(i + 1) * lda + kb);
                ref float a1i = ref Unsafe.Add(ref aIm, (nint)(i + 1) * lda + kb);
                if (rem > 0)
                {
                    tailS.Clear();
                    int off = chunks * 8;
                    for (int q = 0; q < rem; q++)
                    {
                        tailS[q] = Unsafe.Add(ref a0r, off + q);
                        tailS[8 + q] = Unsafe.Add(ref a0i, off + q);
                        tailS[16 + q] = Unsafe.Add(ref a1r, off + q);
                        tailS[24 + q] = Unsafe.Add(ref a1i, off + q);
                    }
                }
                for (int g = 0; g < groups; g++)
                {
                    int j = g * TileB;
                    int valid = Math.Min(TileB, n - j);
                    ref float pb = ref Unsafe.Add(ref packed, (nint)g * groupStride);
                    ref float c0r = ref Unsafe.Add(ref cRe, (nint)i * ldc + j);
                    ref float c0i = ref Unsafe.Add(ref cIm, (nint)i * ldc + j);
                    ref float c1r = ref Unsafe.Add(ref cRe, (nint)(i + 1) * ldc + j);
                    ref float c1i = ref Unsafe.Add(ref cIm, (nint)(i + 1) * ldc + j);
                    Micro2x4(ref a0r, ref a0i, ref a1r, ref a1i, ref pb, chunks, ref c0r, ref c0i, ref c1r, ref c1i, valid, acc);
                    if (rem > 0)
                        Micro2x4(ref tail, ref Unsafe.Add(ref tail, 8), ref Unsafe.Add(ref tail, 16), ref Unsafe.Add(ref tail, 24),
                            ref Unsafe.Add(ref pb, chunks * ChunkFloats), 1, ref c0r, ref c0i, ref c1r, ref c1i, valid, true);
                }
            }
            if (i < m)
            {
                ref float a0r = ref Unsafe.Add(ref aRe, (nint)i * lda + kb);
                ref float a0i = ref Unsafe.Add(ref aIm, (nint)i * lda + kb);
                if (rem > 0)
                {
                    tailS.Clear();
                    int off = chunks * 8;
                    for (int q = 0; q < rem; q++)
                    {
                        tailS[q] = Unsafe.Add(ref a0r, off + q);
                        tailS[8 + q] = Unsafe.Add(ref a0i, off + q);
                    }
                }
                for (int g = 0; g < groups; g++)
                {
                    int j = g * TileB;
                    int valid = Math.Min(TileB, n - j);
                    ref float pb = ref Unsafe.Add(ref packed, (nint)g * groupStride);
                    ref float c0r = ref Unsafe.Add(ref cRe, (nint)i * ldc + j);
                    ref float c0i = ref Unsafe.Add(ref cIm, (nint)i * ldc + j);
                    Micro1x4(ref a0r, ref a0i, ref pb, chunks, ref c0r, ref c0i, valid, acc);
                    if (rem > 0)
                        Micro1x4(ref tail, ref Unsafe.Add(ref tail, 8), ref Unsafe.Add(ref pb, chunks * ChunkFloats), 1,
                            ref c0r, ref c0i, valid, true);
                }
            }
        }
    }

    private static void RealPartSimd(
        ReadOnlySpan<float> aReS, ReadOnlySpan<float> aImS, int lda,
        ReadOnlySpan<float> bReS, ReadOnlySpan<float> bImS, int ldb,
        Span<float> cReS, int ldc, int m, int n, int k, bool accumulate, Span<float> scratch)
    {
        ref float aRe = ref MemoryMarshal.GetReference(aReS);
        ref float aIm = ref MemoryMarshal.GetReference(aImS);
        ref float cRe = ref MemoryMarshal.GetReference(cReS);
        ref float packed = ref MemoryMarshal.GetReference(scratch);
        Span<float> tailS = stackalloc float[8 * 8];
        ref float tail = ref MemoryMarshal.GetReference(tailS);
        int groups = (n + TileB - 1) / TileB;
        for (int kb = 0; kb < k; kb += BlockK)
        {
            int kc = Math.Min(BlockK, k - kb);
            int chunks = kc >> 3, rem = kc & 7;
            int groupStride = (chunks + (rem > 0 ? 1 : 0)) * ChunkFloats;
            PackB(bReS, bImS, ldb, n, kb, kc, scratch, groupStride);
            bool acc = accumulate || kb > 0;
            for (int i = 0; i < m; i += 4)
            {
                int rows = Math.Min(4, m - i);
                // Rows past m alias row i: their sums are computed and dropped, which keeps one micro-kernel.
                nint o0 = (nint)i * lda + kb;
                nint o1 = (nint)(rows > 1 ? i + 1 : i) * lda + kb;
                nint o2 = (nint)(rows > 2 ? i + 2 : i) * lda + kb;
                nint o3 = (nint)(rows > 3 ? i + 3 : i) * lda + kb;
                ref float c0 = ref Unsafe.Add(ref cRe, (nint)i * ldc);
                if (rem > 0)
                {
                    tailS.Clear();
                    int off = chunks * 8;
                    for (int q = 0; q < rem; q++)
                    {
                        tailS[q] = Unsafe.Add(ref aRe, o0 + off + q);
                        tailS[8 + q] = Unsafe.Add(ref aIm, o0 + off + q);
                        tailS[16 + q] = Unsafe.Add(ref aRe, o1 + off + q);
                        tailS[24 + q] = Unsafe.Add(ref aIm, o1 + off + q);
                        tailS[32 + q] = Unsafe.Add(ref aRe, o2 + off + q);
                        tailS[40 + q] = Unsafe.Add(ref aIm, o2 + off + q);
                        tailS[48 + q] = Unsafe.Add(ref aRe, o3 + off + q);
                        tailS[56 + q] = Unsafe.Add(ref aIm, o3 + off + q);
                    }
                }
                for (int g = 0; g < groups; g++)
                {
                    int j = g * TileB;
                    int valid = Math.Min(TileB, n - j);
                    ref float pb = ref Unsafe.Add(ref packed, (nint)g * groupStride);
                    RealPartMicro4x4(
                        ref Unsafe.Add(ref aRe, o0), ref Unsafe.Add(ref aIm, o0), ref Unsafe.Add(ref aRe, o1), ref Unsafe.Add(ref aIm, o1),
                        ref Unsafe.Add(ref aRe, o2), ref Unsafe.Add(ref aIm, o2), ref Unsafe.Add(ref aRe, o3), ref Unsafe.Add(ref aIm, o3),
                        ref pb, chunks, ref Unsafe.Add(ref c0, j), ldc, rows, valid, acc);
                    if (rem > 0)
                        RealPartMicro4x4(
                            ref tail, ref Unsafe.Add(ref tail, 8), ref Unsafe.Add(ref tail, 16), ref Unsafe.Add(ref tail, 24),
                            ref Unsafe.Add(ref tail, 32), ref Unsafe.Add(ref tail, 40), ref Unsafe.Add(ref tail, 48), ref Unsafe.Add(ref tail, 56),
                            ref Unsafe.Add(ref pb, chunks * ChunkFloats), 1, ref Unsafe.Add(ref c0, j), ldc, rows, valid, true);
                }
            }
        }
    }

    // 4 rows of A x 4 packed rows of B, real part only: s[r][c] += Ar·Br − Ai·Bi.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RealPartMicro4x4(
        ref float a0r, ref float a0i, ref float a1r, ref float a1i, ref float a2r, ref float a2i, ref float a3r, ref float a3i,
        ref float pb, int chunks, ref float c0, int ldc, int rows, int valid, bool accumulate)
    {
        Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector256<float> s10 = default, s11 = default, s12 = default, s13 = default;
        Vector256<float> s20 = default, s21 = default, s22 = default, s23 = default;
        Vector256<float> s30 = default, s31 = default, s32 = default, s33 = default;
        ref float b = ref pb;
        for (int c = 0; c < chunks; c++)
        {
            nuint l = (nuint)(c * 8);
            var x0r = Vector256.LoadUnsafe(ref a0r, l); var x0i = Vector256.LoadUnsafe(ref a0i, l);
            var x1r = Vector256.LoadUnsafe(ref a1r, l); var x1i = Vector256.LoadUnsafe(ref a1i, l);
            var x2r = Vector256.LoadUnsafe(ref a2r, l); var x2i = Vector256.LoadUnsafe(ref a2i, l);
            var x3r = Vector256.LoadUnsafe(ref a3r, l); var x3i = Vector256.LoadUnsafe(ref a3i, l);

            var yr = Vector256.LoadUnsafe(ref b, 0);
            var yi = Vector256.LoadUnsafe(ref b, 8);
            s00 = Fma.MultiplyAddNegated(x0i, yi, Fma.MultiplyAdd(x0r, yr, s00));
            s10 = Fma.MultiplyAddNegated(x1i, yi, Fma.MultiplyAdd(x1r, yr, s10));
            s20 = Fma.MultiplyAddNegated(x2i, yi, Fma.MultiplyAdd(x2r, yr, s20));
            s30 = Fma.MultiplyAddNegated(x3i, yi, Fma.MultiplyAdd(x3r, yr, s30));
            yr = Vector256.LoadUnsafe(ref b, 16);
            yi = Vector256.LoadUnsafe(ref b, 24);
            s01 = Fma.MultiplyAddNegated(x0i, yi, Fma.MultiplyAdd(x0r, yr, s01));
            s11 = Fma.MultiplyAddNegated(x1i, yi, Fma.MultiplyAdd(x1r, yr, s11));
            s21 = Fma.MultiplyAddNegated(x2i, yi, Fma.MultiplyAdd(x2r, yr, s21));
            s31 = Fma.MultiplyAddNegated(x3i, yi, Fma.MultiplyAdd(x3r, yr, s31));
            yr = Vector256.LoadUnsafe(ref b, 32);
            yi = Vector256.LoadUnsafe(ref b, 40);
            s02 = Fma.MultiplyAddNegated(x0i, yi, Fma.MultiplyAdd(x0r, yr, s02));
            s12 = Fma.MultiplyAddNegated(x1i, yi, Fma.MultiplyAdd(x1r, yr, s12));
            s22 = Fma.MultiplyAddNegated(x2i, yi, Fma.MultiplyAdd(x2r, yr, s22));
            s32 = Fma.MultiplyAddNegated(x3i, yi, Fma.MultiplyAdd(x3r, yr, s32));
            yr = Vector256.LoadUnsafe(ref b, 48);
            yi = Vector256.LoadUnsafe(ref b, 56);
            s03 = Fma.MultiplyAddNegated(x0i, yi, Fma.MultiplyAdd(x0r, yr, s03));
            s13 = Fma.MultiplyAddNegated(x1i, yi, Fma.MultiplyAdd(x1r, yr, s13));
            s23 = Fma.MultiplyAddNegated(x2i, yi, Fma.MultiplyAdd(x2r, yr, s23));
            s33 = Fma.MultiplyAddNegated(x3i, yi, Fma.MultiplyAdd(x3r, yr, s33));
            b = ref Unsafe.Add(ref b, ChunkFloats);
        }
        Store(Reduce4(s00, s01, s02, s03), ref c0, valid, accumulate);
        if (rows > 1) Store(Reduce4(s10, s11, s12, s13), ref Unsafe.Add(ref c0, ldc), valid, accumulate);
        if (rows > 2) Store(Reduce4(s20, s21, s22, s23), ref Unsafe.Add(ref c0, 2 * ldc), valid, accumulate);
        if (rows > 3) Store(Reduce4(s30, s31, s32, s33), ref Unsafe.Add(ref c0, 3 * ldc), valid, accumulate);
    }

    /// <summary>
    /// Packs rows [0, n) x columns [kb, kb + kc) of B into groups of 4 rows: group g, chunk c holds
    /// row 4g+r's 8 real then 8 imaginary values at offset g*groupStride + c*64 + r*16. Missing rows
    /// and the tail of the last chunk are zero, so the micro-kernel never needs an edge case in B.
    /// </summary>
    private static void PackB(ReadOnlySpan<float> bRe, ReadOnlySpan<float> bIm, int ldb, int n, int kb, int kc,
        Span<float> packed, int groupStride)
    {
        int groups = (n + TileB - 1) / TileB;
        int chunks = kc >> 3, rem = kc & 7;
        ref float dst0 = ref MemoryMarshal.GetReference(packed);
        for (int g = 0; g < groups; g++)
        {
            for (int r = 0; r < TileB; r++)
            {
                int row = g * TileB + r;
                ref float dst = ref Unsafe.Add(ref dst0, (nint)g * groupStride + r * 16);
                if (row >= n)
                {
                    for (int c = 0; c < chunks + (rem > 0 ? 1 : 0); c++)
                    {
                        Vector256<float>.Zero.StoreUnsafe(ref Unsafe.Add(ref dst, c * ChunkFloats));
                        Vector256<float>.Zero.StoreUnsafe(ref Unsafe.Add(ref dst, c * ChunkFloats + 8));
                    }
                    continue;
                }
                ref float srcR = ref Unsafe.Add(ref MemoryMarshal.GetReference(bRe), (nint)row * ldb + kb);
                ref float srcI = ref Unsafe.Add(ref MemoryMarshal.GetReference(bIm), (nint)row * ldb + kb);
                for (int c = 0; c < chunks; c++)
                {
                    Vector256.LoadUnsafe(ref srcR, (nuint)(c * 8)).StoreUnsafe(ref Unsafe.Add(ref dst, c * ChunkFloats));
                    Vector256.LoadUnsafe(ref srcI, (nuint)(c * 8)).StoreUnsafe(ref Unsafe.Add(ref dst, c * ChunkFloats + 8));
                }
                if (rem > 0)
                {
                    ref float t = ref Unsafe.Add(ref dst, chunks * ChunkFloats);
                    for (int q = 0; q < 8; q++)
                    {
                        bool inside = q < rem;
                        Unsafe.Add(ref t, q) = inside ? Unsafe.Add(ref srcR, chunks * 8 + q) : 0f;
                        Unsafe.Add(ref t, 8 + q) = inside ? Unsafe.Add(ref srcI, chunks * 8 + q) : 0f;
                    }
                }
            }
        }
    }

    // 2 rows of A x 4 packed rows of B; 16 accumulators, each fed by two dependent FMAs per chunk
    // (32 FMAs per chunk keep both FMA pipes busy through the 4-cycle latency).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro2x4(
        ref float a0r, ref float a0i, ref float a1r, ref float a1i, ref float pb, int chunks,
        ref float c0r, ref float c0i, ref float c1r, ref float c1i, int valid, bool accumulate)
    {
        Vector256<float> s00r = default, s00i = default, s01r = default, s01i = default;
        Vector256<float> s02r = default, s02i = default, s03r = default, s03i = default;
        Vector256<float> s10r = default, s10i = default, s11r = default, s11i = default;
        Vector256<float> s12r = default, s12i = default, s13r = default, s13i = default;
        ref float b = ref pb;
        for (int c = 0; c < chunks; c++)
        {
            nuint l = (nuint)(c * 8);
            var x0r = Vector256.LoadUnsafe(ref a0r, l);
            var x0i = Vector256.LoadUnsafe(ref a0i, l);
            var x1r = Vector256.LoadUnsafe(ref a1r, l);
            var x1i = Vector256.LoadUnsafe(ref a1i, l);

            var yr = Vector256.LoadUnsafe(ref b, 0);
            var yi = Vector256.LoadUnsafe(ref b, 8);
            s00r = Fma.MultiplyAdd(x0r, yr, s00r); s00r = Fma.MultiplyAddNegated(x0i, yi, s00r);
            s00i = Fma.MultiplyAdd(x0r, yi, s00i); s00i = Fma.MultiplyAdd(x0i, yr, s00i);
            s10r = Fma.MultiplyAdd(x1r, yr, s10r); s10r = Fma.MultiplyAddNegated(x1i, yi, s10r);
            s10i = Fma.MultiplyAdd(x1r, yi, s10i); s10i = Fma.MultiplyAdd(x1i, yr, s10i);

            yr = Vector256.LoadUnsafe(ref b, 16);
            yi = Vector256.LoadUnsafe(ref b, 24);
            s01r = Fma.MultiplyAdd(x0r, yr, s01r); s01r = Fma.MultiplyAddNegated(x0i, yi, s01r);
            s01i = Fma.MultiplyAdd(x0r, yi, s01i); s01i = Fma.MultiplyAdd(x0i, yr, s01i);
            s11r = Fma.MultiplyAdd(x1r, yr, s11r); s11r = Fma.MultiplyAddNegated(x1i, yi, s11r);
            s11i = Fma.MultiplyAdd(x1r, yi, s11i); s11i = Fma.MultiplyAdd(x1i, yr, s11i);

            yr = Vector256.LoadUnsafe(ref b, 32);
            yi = Vector256.LoadUnsafe(ref b, 40);
            s02r = Fma.MultiplyAdd(x0r, yr, s02r); s02r = Fma.MultiplyAddNegated(x0i, yi, s02r);
            s02i = Fma.MultiplyAdd(x0r, yi, s02i); s02i = Fma.MultiplyAdd(x0i, yr, s02i);
            s12r = Fma.MultiplyAdd(x1r, yr, s12r); s12r = Fma.MultiplyAddNegated(x1i, yi, s12r);
            s12i = Fma.MultiplyAdd(x1r, yi, s12i); s12i = Fma.MultiplyAdd(x1i, yr, s12i);

            yr = Vector256.LoadUnsafe(ref b, 48);
            yi = Vector256.LoadUnsafe(ref b, 56);
            s03r = Fma.MultiplyAdd(x0r, yr, s03r); s03r = Fma.MultiplyAddNegated(x0i, yi, s03r);
            s03i = Fma.MultiplyAdd(x0r, yi, s03i); s03i = Fma.MultiplyAdd(x0i, yr, s03i);
            s13r = Fma.MultiplyAdd(x1r, yr, s13r); s13r = Fma.MultiplyAddNegated(x1i, yi, s13r);
            s13i = Fma.MultiplyAdd(x1r, yi, s13i); s13i = Fma.MultiplyAdd(x1i, yr, s13i);

            b = ref Unsafe.Add(ref b, ChunkFloats);
        }
        Store(Reduce4(s00r, s01r, s02r, s03r), ref c0r, valid, accumulate);
        Store(Reduce4(s00i, s01i, s02i, s03i), ref c0i, valid, accumulate);
        Store(Reduce4(s10r, s11r, s12r, s13r), ref c1r, valid, accumulate);
        Store(Reduce4(s10i, s11i, s12i, s13i), ref c1i, valid, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro1x4(
        ref float a0r, ref float a0i, ref float pb, int chunks,
        ref float c0r, ref float c0i, int valid, bool accumulate)
    {
        Vector256<float> s0r = default, s0i = default, s1r = default, s1i = default;
        Vector256<float> s2r = default, s2i = default, s3r = default, s3i = default;
        ref float b = ref pb;
        for (int c = 0; c < chunks; c++)
        {
            nuint l = (nuint)(c * 8);
            var xr = Vector256.LoadUnsafe(ref a0r, l);
            var xi = Vector256.LoadUnsafe(ref a0i, l);
            var yr = Vector256.LoadUnsafe(ref b, 0);
            var yi = Vector256.LoadUnsafe(ref b, 8);
            s0r = Fma.MultiplyAdd(xr, yr, s0r); s0r = Fma.MultiplyAddNegated(xi, yi, s0r);
            s0i = Fma.MultiplyAdd(xr, yi, s0i); s0i = Fma.MultiplyAdd(xi, yr, s0i);
            yr = Vector256.LoadUnsafe(ref b, 16);
            yi = Vector256.LoadUnsafe(ref b, 24);
            s1r = Fma.MultiplyAdd(xr, yr, s1r); s1r = Fma.MultiplyAddNegated(xi, yi, s1r);
            s1i = Fma.MultiplyAdd(xr, yi, s1i); s1i = Fma.MultiplyAdd(xi, yr, s1i);
            yr = Vector256.LoadUnsafe(ref b, 32);
            yi = Vector256.LoadUnsafe(ref b, 40);
            s2r = Fma.MultiplyAdd(xr, yr, s2r); s2r = Fma.MultiplyAddNegated(xi, yi, s2r);
            s2i = Fma.MultiplyAdd(xr, yi, s2i); s2i = Fma.MultiplyAdd(xi, yr, s2i);
            yr = Vector256.LoadUnsafe(ref b, 48);
            yi = Vector256.LoadUnsafe(ref b, 56);
            s3r = Fma.MultiplyAdd(xr, yr, s3r); s3r = Fma.MultiplyAddNegated(xi, yi, s3r);
            s3i = Fma.MultiplyAdd(xr, yi, s3i); s3i = Fma.MultiplyAdd(xi, yr, s3i);
            b = ref Unsafe.Add(ref b, ChunkFloats);
        }
        Store(Reduce4(s0r, s1r, s2r, s3r), ref c0r, valid, accumulate);
        Store(Reduce4(s0i, s1i, s2i, s3i), ref c0i, valid, accumulate);
    }

    /// <summary>Lane sums of four vectors, as one Vector128 (element q = Σ lanes of vq).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Reduce4(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3)
    {
        var h = Avx.HorizontalAdd(Avx.HorizontalAdd(v0, v1), Avx.HorizontalAdd(v2, v3));
        return h.GetLower() + h.GetUpper();
    }

    /// <summary>Writes (or adds) the first <paramref name="valid"/> of four sums to consecutive floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store(Vector128<float> s, ref float dst, int valid, bool accumulate)
    {
        if (valid == 4)
        {
            if (accumulate) s += Vector128.LoadUnsafe(ref dst);
            s.StoreUnsafe(ref dst);
            return;
        }
        for (int q = 0; q < valid; q++)
        {
            float v = s.GetElement(q);
            Unsafe.Add(ref dst, q) = accumulate ? Unsafe.Add(ref dst, q) + v : v;
        }
    }

    internal static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
