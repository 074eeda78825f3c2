using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CryoFlow.Numerics.Likelihood;

/// <summary>
/// Real single-precision matrix products on row-major storage with explicit leading dimensions, in
/// the two shapes the likelihood kernel needs:
/// <list type="bullet">
/// <item><see cref="MultiplyABt"/>: C = A · Bᵀ, both operands long in the summed dimension (the
/// |S|² term: Q[p,d] = Σ_k m C²[p,k] |S|²[d,k]); vectorised along k like <see cref="ComplexGemm"/>.</item>
/// <item><see cref="MultiplyAtB"/>: C = Aᵀ · B, output long in its columns (the gradient: G[d,k] =
/// Σ_i γ[i,d] U[i,k]); vectorised along the output columns with A broadcast.</item>
/// </list>
/// Float products and sums (error as described on <see cref="ComplexGemm"/>). Stateless,
/// thread-safe, no allocation.
/// </summary>
public static class RealGemm
{
    /// <summary>k-panel (floats) for <see cref="MultiplyABt"/>.</summary>
    public const int BlockK = ComplexGemm.BlockK;

    /// <summary>Rows of the summed dimension per pass of <see cref="MultiplyAtB"/> (keeps a 32-column strip of B in L1).</summary>
    public const int BlockL = 128;

    private const int TileB = 4;           // rows of B per ABt register tile
    private const int ChunkFloats = TileB * 8;
    private const int StripFloats = 32;    // output columns per AtB register tile (4 vectors)

    /// <summary>Scratch floats that <see cref="MultiplyABt"/> needs for given n and k (0 when either is 0).</summary>
    public static int ScratchLength(int n, int k)
    {
        if (n <= 0 || k <= 0) return 0;
        return ComplexGemm.RoundUp(n, TileB) * ComplexGemm.RoundUp(Math.Min(k, BlockK), 8);
    }

    /// <summary>C = A · Bᵀ (or C += A · Bᵀ): C[i,j] = Σ_l A[i,l] B[j,l].</summary>
    /// <param name="a">A, m x k row-major</param>
    /// <param name="lda">elements between rows of A, ≥ k</param>
    /// <param name="b">B, n x k row-major (untransposed)</param>
    /// <param name="ldb">elements between rows of B, ≥ k</param>
    /// <param name="c">C, m x n row-major</param>
    /// <param name="ldc">elements between rows of C, ≥ n</param>
    /// <param name="m">rows of A and C</param>
    /// <param name="n">rows of B, columns of C</param>
    /// <param name="k">summed dimension</param>
    /// <param name="accumulate">false: overwrite C; true: add to it</param>
    /// <param name="scratch">at least <see cref="ScratchLength"/>(n, k) floats</param>
    /// <param name="forceScalar">run the scalar reference path</param>
    public static void MultiplyABt(
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, bool accumulate, Span<float> scratch, bool forceScalar = false)
    {
        KernelGuard.Matrix(a.Length, m, k, lda, nameof(a));
        KernelGuard.Matrix(b.Length, n, k, ldb, nameof(b));
        KernelGuard.Matrix(c.Length, m, n, ldc, nameof(c));
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            return;
        }
        // checked on every path, so that a short scratch is the same error on every CPU
        KernelGuard.AtLeast(scratch.Length, ScratchLength(n, k), nameof(scratch));
        if (!forceScalar && KernelGuard.SimdAvailable)
        {
            ABtSimd(a, lda, b, ldb, c, ldc, m, n, k, accumulate, scratch);
            return;
        }
        for (int i = 0; i < m; i++)
        {
            var ai = a.Slice(i * lda, k);
            for (int j = 0; j < n; j++)
            {
                var bj = b.Slice(j * ldb, k);
                float s = 0;
                for (int l = 0; l < k; l++) s += ai[l] * bj[l];
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
            }
        }
    }

    /// <summary>C = Aᵀ · B (or C += Aᵀ · B): C[i,j] = Σ_l A[l,i] B[l,j].</summary>
    /// <param name="a">A, k x m row-major (Aᵀ is m x k)</param>
    /// <param name="lda">elements between rows of A, ≥ m</param>
    /// <param name="b">B, k x n row-major</param>
    /// <param name="ldb">elements between rows of B, ≥ n</param>
    /// <param name="c">C, m x n row-major</param>
    /// <param name="ldc">elements between rows of C, ≥ n</param>
    /// <param name="m">columns of A, rows of C</param>
    /// <param name="n">columns of B and C</param>
    /// <param name="k">rows of A and B (summed)</param>
    /// <param name="accumulate">false: overwrite C; true: add to it</param>
    /// <param name="forceScalar">run the scalar reference path</param>
    public static void MultiplyAtB(
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, bool accumulate, bool forceScalar = false)
    {
        KernelGuard.Matrix(a.Length, k, m, lda, nameof(a));
        KernelGuard.Matrix(b.Length, k, n, ldb, nameof(b));
        KernelGuard.Matrix(c.Length, m, n, ldc, nameof(c));
        if (m == 0 || n == 0) return;
        if (!accumulate)
            for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
        if (k == 0) return;
        if (!forceScalar && KernelGuard.SimdAvailable)
        {
            AtBSimd(a, lda, b, ldb, c, ldc, m, n, k);
            return;
        }
        AtBScalarColumns(a, lda, b, ldb, c, ldc, m, 0, n, k);
    }

    // ---------------------------------------------------------------- A · Bᵀ

    private static void ABtSimd(ReadOnlySpan<float> aS, int lda, ReadOnlySpan<float> bS, int ldb, Span<float> cS, int ldc,
        int m, int n, int k, bool accumulate, Span<float> scratch)
    {
        ref float a = ref MemoryMarshal.GetReference(aS);
        ref float c = ref MemoryMarshal.GetReference(cS);
        ref float packed = ref MemoryMarshal.GetReference(scratch);
        Span<float> tailS = stackalloc float[4 * 8];
        ref float tail = ref MemoryMarshal.GetReference(tailS);
        int groups = (n + TileB - 1) / TileB;
        for (int kb = 0; kb < k; kb += BlockK)
        {
            int kc = Math.Min(BlockK, k - kb);
            int chunks = kc >> 3, rem = kc & 7;
            int groupStride = (chunks + (rem > 0 ? 1 : 0)) * ChunkFloats;
            PackB(bS, ldb, n, kb, kc, scratch, groupStride);
            bool acc = accumulate || kb > 0;
            for (int i = 0; i < m; i += 4)
            {
                int rows = Math.Min(4, m - i);
                // Rows past m alias row i: their sums are computed and dropped, which keeps one micro-kernel.
                ref float a0 = ref Unsafe.Add(ref a, (nint)i * lda + kb);
                ref float a1 = ref Unsafe.Add(ref a, (nint)(rows > 1 ? i + 1 : i) * lda + kb);
                ref float a2 = ref Unsafe.Add(ref a, (nint)(rows > 2 ? i + 2 : i) * lda + kb);
                ref float a3 = ref Unsafe.Add(ref a, (nint)(rows > 3 ? i + 3 : i) * lda + kb);
                if (rem > 0)
                {
                    tailS.Clear();
                    int off = chunks * 8;
                    for (int q = 0; q < rem; q++)
                    {
                        tailS[q] = Unsafe.Add(ref a0, off + q);
                        tailS[8 + q] = Unsafe.Add(ref a1, off + q);
                        tailS[16 + q] = Unsafe.Add(ref a2, off + q);
                        tailS[24 + q] = Unsafe.Add(ref a3, off + q);
                    }
                }
                for (int g = 0; g < groups; g++)
                {
                    int j = g * TileB;
                    int valid = Math.Min(TileB, n - j);
                    ref float pb = ref Unsafe.Add(ref packed, (nint)g * groupStride);
                    ref float c0 = ref Unsafe.Add(ref c, (nint)i * ldc + j);
                    ABtMicro4x4(ref a0, ref a1, ref a2, ref a3, ref pb, chunks, ref c0, ldc, rows, valid, acc);
                    if (rem > 0)
                        ABtMicro4x4(ref tail, ref Unsafe.Add(ref tail, 8), ref Unsafe.Add(ref tail, 16), ref Unsafe.Add(ref tail, 24),
                            ref Unsafe.Add(ref pb, chunks * ChunkFloats), 1, ref c0, ldc, rows, valid, true);
                }
            }
        }
    }

    private static void PackB(ReadOnlySpan<float> bS, int ldb, int n, int kb, int kc, Span<float> packed, int groupStride)
    {
        int groups = (n + TileB - 1) / TileB;
        int chunks = kc >> 3, rem = kc & 7;
        ref float dst0 = ref MemoryMarshal.GetReference(packed);
        for (int g = 0; g < groups; g++)
        {
            for (int r = 0; r < TileB; r++)
            {
                int row = g * TileB + r;
                ref float dst = ref Unsafe.Add(ref dst0, (nint)g * groupStride + r * 8);
                if (row >= n)
                {
                    for (int ch = 0; ch < chunks + (rem > 0 ? 1 : 0); ch++)
                        Vector256<float>.Zero.StoreUnsafe(ref Unsafe.Add(ref dst, ch * ChunkFloats));
                    continue;
                }
                ref float src = ref Unsafe.Add(ref MemoryMarshal.GetReference(bS), (nint)row * ldb + kb);
                for (int ch = 0; ch < chunks; ch++)
                    Vector256.LoadUnsafe(ref src, (nuint)(ch * 8)).StoreUnsafe(ref Unsafe.Add(ref dst, ch * ChunkFloats));
                if (rem > 0)
                {
                    ref float t = ref Unsafe.Add(ref dst, chunks * ChunkFloats);
                    for (int q = 0; q < 8; q++) Unsafe.Add(ref t, q) = q < rem ? Unsafe.Add(ref src, chunks * 8 + q) : 0f;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ABtMicro4x4(ref float a0, ref float a1, ref float a2, ref float a3, ref float pb, int chunks,
        ref float c0, int ldc, int rows, int valid, bool accumulate)
    {
        Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector256<float> s10 = default, s11 = default, s12 = default, s13 = default;
        Vector256<float> s20 = default, s21 = default, s22 = default, s23 = default;
        Vector256<float> s30 = default, s31 = default, s32 = default, s33 = default;
        ref float b = ref pb;
        for (int ch = 0; ch < chunks; ch++)
        {
            nuint l = (nuint)(ch * 8);
            var x0 = Vector256.LoadUnsafe(ref a0, l);
            var x1 = Vector256.LoadUnsafe(ref a1, l);
            var x2 = Vector256.LoadUnsafe(ref a2, l);
            var x3 = Vector256.LoadUnsafe(ref a3, l);
            var y = Vector256.LoadUnsafe(ref b, 0);
            s00 = Fma.MultiplyAdd(x0, y, s00); s10 = Fma.MultiplyAdd(x1, y, s10);
            s20 = Fma.MultiplyAdd(x2, y, s20); s30 = Fma.MultiplyAdd(x3, y, s30);
            y = Vector256.LoadUnsafe(ref b, 8);
            s01 = Fma.MultiplyAdd(x0, y, s01); s11 = Fma.MultiplyAdd(x1, y, s11);
            s21 = Fma.MultiplyAdd(x2, y, s21); s31 = Fma.MultiplyAdd(x3, y, s31);
            y = Vector256.LoadUnsafe(ref b, 16);
            s02 = Fma.MultiplyAdd(x0, y, s02); s12 = Fma.MultiplyAdd(x1, y, s12);
            s22 = Fma.MultiplyAdd(x2, y, s22); s32 = Fma.MultiplyAdd(x3, y, s32);
            y = Vector256.LoadUnsafe(ref b, 24);
            s03 = Fma.MultiplyAdd(x0, y, s03); s13 = Fma.MultiplyAdd(x1, y, s13);
            s23 = Fma.MultiplyAdd(x2, y, s23); s33 = Fma.MultiplyAdd(x3, y, s33);
            b = ref Unsafe.Add(ref b, ChunkFloats);
        }
        ComplexGemm.Store(ComplexGemm.Reduce4(s00, s01, s02, s03), ref c0, valid, accumulate);
        if (rows > 1) ComplexGemm.Store(ComplexGemm.Reduce4(s10, s11, s12, s13), ref Unsafe.Add(ref c0, ldc), valid, accumulate);
        if (rows > 2) ComplexGemm.Store(ComplexGemm.Reduce4(s20, s21, s22, s23), ref Unsafe.Add(ref c0, 2 * ldc), valid, accumulate);
        if (rows > 3) ComplexGemm.Store(ComplexGemm.Reduce4(s30, s31, s32, s33), ref Unsafe.Add(ref c0, 3 * ldc), valid, accumulate);
    }

    // ---------------------------------------------------------------- Aᵀ · B

    private static void AtBSimd(ReadOnlySpan<float> aS, int lda, ReadOnlySpan<float> bS, int ldb, Span<float> cS, int ldc,
        int m, int n, int k)
    {
        ref float a = ref MemoryMarshal.GetReference(aS);
        ref float b = ref MemoryMarshal.GetReference(bS);
        ref float c = ref MemoryMarshal.GetReference(cS);
        int n8 = n & ~7;
        int j = 0;
        // 32-column strips, then 8-column strips, then scalar columns. C already holds the
        // starting values (zero or the caller's), so every pass accumulates.
        for (; j < n8; j += StripFloats)
        {
            int width = Math.Min(StripFloats, n8 - j);
            for (int lb = 0; lb < k; lb += BlockL)
            {
                int lc = Math.Min(BlockL, k - lb);
                ref float bBlock = ref Unsafe.Add(ref b, (nint)lb * ldb + j);
                ref float aBlock = ref Unsafe.Add(ref a, (nint)lb * lda);
                if (width == StripFloats)
                {
                    int i = 0;
                    for (; i + 4 <= m; i += 4)
                        AtBMicro4x32(ref Unsafe.Add(ref aBlock, i), lda, ref bBlock, ldb, lc, ref Unsafe.Add(ref c, (nint)i * ldc + j), ldc);
                    for (; i < m; i++)
                        AtBMicro1x32(ref Unsafe.Add(ref aBlock, i), lda, ref bBlock, ldb, lc, ref Unsafe.Add(ref c, (nint)i * ldc + j));
                }
                else
                {
                    for (int jj = 0; jj < width; jj += 8)
                    {
                        ref float bb = ref Unsafe.Add(ref bBlock, jj);
                        int i = 0;
                        for (; i + 4 <= m; i += 4)
                            AtBMicro4x8(ref Unsafe.Add(ref aBlock, i), lda, ref bb, ldb, lc, ref Unsafe.Add(ref c, (nint)i * ldc + j + jj), ldc);
                        for (; i < m; i++)
                            AtBMicro1x8(ref Unsafe.Add(ref aBlock, i), lda, ref bb, ldb, lc, ref Unsafe.Add(ref c, (nint)i * ldc + j + jj));
                    }
                }
            }
        }
        if (n8 < n) AtBScalarColumns(aS, lda, bS, ldb, cS, ldc, m, n8, n, k);
    }

    private static void AtBScalarColumns(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int j0, int j1, int k)
    {
        for (int i = 0; i < m; i++)
            for (int j = j0; j < j1; j++)
            {
                float s = 0;
                for (int l = 0; l < k; l++) s += a[l * lda + i] * b[l * ldb + j];
                c[i * ldc + j] += s;
            }
    }

    // 4 rows of C x 32 columns: 16 accumulators, 4 loads of B and 4 broadcasts of A per step.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AtBMicro4x32(ref float a, int lda, ref float b, int ldb, int lc, ref float c, int ldc)
    {
        ref float c1 = ref Unsafe.Add(ref c, ldc);
        ref float c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref float c3 = ref Unsafe.Add(ref c, 3 * ldc);
        var s00 = Vector256.LoadUnsafe(ref c, 0); var s01 = Vector256.LoadUnsafe(ref c, 8);
        var s02 = Vector256.LoadUnsafe(ref c, 16); var s03 = Vector256.LoadUnsafe(ref c, 24);
        var s10 = Vector256.LoadUnsafe(ref c1, 0); var s11 = Vector256.LoadUnsafe(ref c1, 8);
        var s12 = Vector256.LoadUnsafe(ref c1, 16); var s13 = Vector256.LoadUnsafe(ref c1, 24);
        var s20 = Vector256.LoadUnsafe(ref c2, 0); var s21 = Vector256.LoadUnsafe(ref c2, 8);
        var s22 = Vector256.LoadUnsafe(ref c2, 16); var s23 = Vector256.LoadUnsafe(ref c2, 24);
        var s30 = Vector256.LoadUnsafe(ref c3, 0); var s31 = Vector256.LoadUnsafe(ref c3, 8);
        var s32 = Vector256.LoadUnsafe(ref c3, 16); var s33 = Vector256.LoadUnsafe(ref c3, 24);
        ref float ar = ref a;
        ref float br = ref b;
        for (int l = 0; l < lc; l++)
        {
            var y0 = Vector256.LoadUnsafe(ref br, 0);
            var y1 = Vector256.LoadUnsafe(ref br, 8);
            var y2 = Vector256.LoadUnsafe(ref br, 16);
            var y3 = Vector256.LoadUnsafe(ref br, 24);
            var x = Vector256.Create(ar);
            s00 = Fma.MultiplyAdd(x, y0, s00); s01 = Fma.MultiplyAdd(x, y1, s01);
            s02 = Fma.MultiplyAdd(x, y2, s02); s03 = Fma.MultiplyAdd(x, y3, s03);
            x = Vector256.Create(Unsafe.Add(ref ar, 1));
            s10 = Fma.MultiplyAdd(x, y0, s10); s11 = Fma.MultiplyAdd(x, y1, s11);
            s12 = Fma.MultiplyAdd(x, y2, s12); s13 = Fma.MultiplyAdd(x, y3, s13);
            x = Vector256.Create(Unsafe.Add(ref ar, 2));
            s20 = Fma.MultiplyAdd(x, y0, s20); s21 = Fma.MultiplyAdd(x, y1, s21);
            s22 = Fma.MultiplyAdd(x, y2, s22); s23 = Fma.MultiplyAdd(x, y3, s23);
            x = Vector256.Create(Unsafe.Add(ref ar, 3));
            s30 = Fma.MultiplyAdd(x, y0, s30); s31 = Fma.MultiplyAdd(x, y1, s31);
            s32 = Fma.MultiplyAdd(x, y2, s32); s33 = Fma.MultiplyAdd(x, y3, s33);
            ar = ref Unsafe.Add(ref ar, lda);
            br = ref Unsafe.Add(ref br, ldb);
        }
        s00.StoreUnsafe(ref c, 0); s01.StoreUnsafe(ref c, 8); s02.StoreUnsafe(ref c, 16); s03.StoreUnsafe(ref c, 24);
        s10.StoreUnsafe(ref c1, 0); s11.StoreUnsafe(ref c1, 8); s12.StoreUnsafe(ref c1, 16); s13.StoreUnsafe(ref c1, 24);
        s20.StoreUnsafe(ref c2, 0); s21.StoreUnsafe(ref c2, 8); s22.StoreUnsafe(ref c2, 16); s23.StoreUnsafe(ref c2, 24);
        s30.StoreUnsafe(ref c3, 0); s31.StoreUnsafe(ref c3, 8); s32.StoreUnsafe(ref c3, 16); s33.StoreUnsafe(ref c3, 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AtBMicro1x32(ref float a, int lda, ref float b, int ldb, int lc, ref float c)
    {
        var s0 = Vector256.LoadUnsafe(ref c, 0); var s1 = Vector256.LoadUnsafe(ref c, 8);
        var s2 = Vector256.LoadUnsafe(ref c, 16); var s3 = Vector256.LoadUnsafe(ref c, 24);
        ref float ar = ref a;
        ref float br = ref b;
        for (int l = 0; l < lc; l++)
        {
            var x = Vector256.Create(ar);
            s0 = Fma.MultiplyAdd(x, Vector256.LoadUnsafe(ref br, 0), s0);
            s1 = Fma.MultiplyAdd(x, Vector256.LoadUnsafe(ref br, 8), s1);
            s2 = Fma.MultiplyAdd(x, Vector256.LoadUnsafe(ref br, 16), s2);
            s3 = Fma.MultiplyAdd(x, Vector256.LoadUnsafe(ref br, 24), s3);
            ar = ref Unsafe.Add(ref ar, lda);
            br = ref Unsafe.Add(ref br, ldb);
        }
        s0.StoreUnsafe(ref c, 0); s1.StoreUnsafe(ref c, 8); s2.StoreUnsafe(ref c, 16); s3.StoreUnsafe(ref c, 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AtBMicro4x8(ref float a, int lda, ref float b, int ldb, int lc, ref float c, int ldc)
    {
        ref float c1 = ref Unsafe.Add(ref c, ldc);
        ref float c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref float c3 = ref Unsafe.Add(ref c, 3 * ldc);
        var s0 = Vector256.LoadUnsafe(ref c); var s1 = Vector256.LoadUnsafe(ref c1);
        var s2 = Vector256.LoadUnsafe(ref c2); var s3 = Vector256.LoadUnsafe(ref c3);
        ref float ar = ref a;
        ref float br = ref b;
        for (int l = 0; l < lc; l++)
        {
            var y = Vector256.LoadUnsafe(ref br);
            s0 = Fma.MultiplyAdd(Vector256.Create(ar), y, s0);
            s1 = Fma.MultiplyAdd(Vector256.Create(Unsafe.Add(ref ar, 1)), y, s1);
            s2 = Fma.MultiplyAdd(Vector256.Create(Unsafe.Add(ref ar, 2)), y, s2);
            s3 = Fma.MultiplyAdd(Vector256.Create(Unsafe.Add(ref ar, 3)), y, s3);
            ar = ref Unsafe.Add(ref ar, lda);
            br = ref Unsafe.Add(ref br, ldb);
        }
        s0.StoreUnsafe(ref c); s1.StoreUnsafe(ref c1); s2.StoreUnsafe(ref c2); s3.StoreUnsafe(ref c3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AtBMicro1x8(ref float a, int lda, ref float b, int ldb, int lc, ref float c)
    {
        var s = Vector256.LoadUnsafe(ref c);
        ref float ar = ref a;
        ref float br = ref b;
        for (int l = 0; l < lc; l++)
        {
            s = Fma.MultiplyAdd(Vector256.Create(ar), Vector256.LoadUnsafe(ref br), s);
            ar = ref Unsafe.Add(ref ar, lda);
            br = ref Unsafe.Add(ref br, ldb);
        }
        s.StoreUnsafe(ref c);
    }
}
