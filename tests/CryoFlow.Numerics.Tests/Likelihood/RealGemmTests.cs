using CryoFlow.Numerics.Likelihood;

namespace CryoFlow.Numerics.Tests.Likelihood;

public class RealGemmTests
{
    public static TheoryData<int, int, int> ABtShapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int m in new[] { 0, 1, 3, 4, 5 })
            foreach (int n in new[] { 1, 3, 4, 5 })
                foreach (int k in new[] { 0, 1, 7, 8, 9, 33 })
                    data.Add(m, n, k);
        data.Add(16, 64, 513);
        data.Add(7, 9, 1100);
        return data;
    }

    [Theory]
    [MemberData(nameof(ABtShapes))]
    public void ABtMatchesTripleLoopOnBothPaths(int m, int n, int k)
    {
        var rng = new Random(m * 7919 + n * 31 + k);
        int lda = k + 1, ldb = k + 2, ldc = n + 1;
        float[] a = GemmReference.Matrix(rng, m, k, 1), b = GemmReference.Matrix(rng, n, k, 2);
        var e = new double[m * n];
        var bound = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int l = 0; l < k; l++)
                {
                    e[i * n + j] += (double)a[i * lda + l] * b[j * ldb + l];
                    bound[i * n + j] += Math.Abs((double)a[i * lda + l] * b[j * ldb + l]);
                }
        var scratch = new float[RealGemm.ScratchLength(n, k)];
        foreach (bool scalar in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
            {
                var c = new float[m * ldc];
                Array.Fill(c, accumulate ? 2f : float.NaN);
                RealGemm.MultiplyABt(a, lda, b, ldb, c, ldc, m, n, k, accumulate, scratch, scalar);
                GemmReference.AssertClose(accumulate ? e.Select(v => v + 2).ToArray() : e, bound.Select(v => v + 2).ToArray(),
                    c, m, n, ldc, 2e-6, $"{m}x{n}x{k} scalar={scalar} acc={accumulate}");
                for (int i = 0; i < m; i++)
                    Assert.True(accumulate ? c[i * ldc + n] == 2f : float.IsNaN(c[i * ldc + n]), "C padding was written");
            }
    }

    public static TheoryData<int, int, int> AtBShapes()
    {
        // m around the 4-row tile; n around 8 (vector) and 32 (strip); k around the 128-row pass.
        var data = new TheoryData<int, int, int>();
        foreach (int m in new[] { 0, 1, 3, 4, 5 })
            foreach (int n in new[] { 1, 7, 8, 9, 31, 32, 33, 72 })
                foreach (int k in new[] { 0, 1, 5 })
                    data.Add(m, n, k);
        data.Add(9, 40, 127);
        data.Add(4, 64, 128);
        data.Add(6, 100, 129);
        data.Add(64, 512, 400);
        return data;
    }

    [Theory]
    [MemberData(nameof(AtBShapes))]
    public void AtBMatchesTripleLoopOnBothPaths(int m, int n, int k)
    {
        var rng = new Random(m * 7 + n * 131 + k * 8191);
        int lda = m + 1, ldb = n + 3, ldc = n + 2;
        float[] a = GemmReference.Matrix(rng, k, m, 1), b = GemmReference.Matrix(rng, k, n, 3);
        var e = new double[m * n];
        var bound = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int l = 0; l < k; l++)
                {
                    e[i * n + j] += (double)a[l * lda + i] * b[l * ldb + j];
                    bound[i * n + j] += Math.Abs((double)a[l * lda + i] * b[l * ldb + j]);
                }
        foreach (bool scalar in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
            {
                var c = new float[m * ldc];
                Array.Fill(c, accumulate ? -1f : float.NaN);
                RealGemm.MultiplyAtB(a, lda, b, ldb, c, ldc, m, n, k, accumulate, scalar);
                GemmReference.AssertClose(accumulate ? e.Select(v => v - 1).ToArray() : e, bound.Select(v => v + 1).ToArray(),
                    c, m, n, ldc, 2e-6, $"{m}x{n}x{k} scalar={scalar} acc={accumulate}");
                for (int i = 0; i < m; i++)
                    for (int j = n; j < ldc; j++)
                        Assert.True(accumulate ? c[i * ldc + j] == -1f : float.IsNaN(c[i * ldc + j]), "C padding was written");
            }
    }

    [Fact]
    public void RejectsOperandsShorterThanTheirShape()
    {
        var x = new float[12];
        Assert.Throws<ArgumentException>(() => RealGemm.MultiplyAtB(x, 3, x, 4, x, 4, 3, 4, 4, false));
        Assert.Throws<ArgumentException>(() => RealGemm.MultiplyAtB(x, 2, x, 4, x, 4, 3, 4, 3, false));
        Assert.Throws<ArgumentException>(() => RealGemm.MultiplyABt(x, 4, x, 4, x, 3, 3, 4, 4, false, new float[64]));
    }
}
