using CryoFlow.Numerics.Likelihood;

namespace CryoFlow.Numerics.Tests.Likelihood;

public class ComplexGemmTests
{
    // m around the 2-row tile, n around the 4-row group, k around the 8-wide vector and the panel.
    public static TheoryData<int, int, int> Shapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int m in new[] { 0, 1, 2, 3, 5 })
            foreach (int n in new[] { 1, 3, 4, 5, 9 })
                foreach (int k in new[] { 0, 1, 7, 8, 9, 33 })
                    data.Add(m, n, k);
        data.Add(17, 13, 511);
        data.Add(4, 8, 512);
        data.Add(3, 5, 513);
        data.Add(6, 7, 1100);
        data.Add(64, 64, 200);
        return data;
    }

    private static (double[] re, double[] im, double[] bound) Reference(float[] aRe, float[] aIm, int lda, float[] bRe, float[] bIm, int ldb, int m, int n, int k)
    {
        var re = new double[m * n];
        var im = new double[m * n];
        var bound = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int l = 0; l < k; l++)
                {
                    double ar = aRe[i * lda + l], ai = aIm[i * lda + l], br = bRe[j * ldb + l], bi = bIm[j * ldb + l];
                    re[i * n + j] += ar * br - ai * bi;
                    im[i * n + j] += ar * bi + ai * br;
                    bound[i * n + j] += Math.Sqrt((ar * ar + ai * ai) * (br * br + bi * bi));
                }
        return (re, im, bound);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ABtMatchesTripleLoopOnBothPaths(int m, int n, int k)
    {
        var rng = new Random(m * 10007 + n * 101 + k);
        int lda = k + 3, ldb = k + 1, ldc = n + 2;
        float[] aRe = GemmReference.Matrix(rng, m, k, 3), aIm = GemmReference.Matrix(rng, m, k, 3);
        float[] bRe = GemmReference.Matrix(rng, n, k, 1), bIm = GemmReference.Matrix(rng, n, k, 1);
        var (re, im, bound) = Reference(aRe, aIm, lda, bRe, bIm, ldb, m, n, k);
        var scratch = new float[ComplexGemm.ScratchLength(n, k)];
        foreach (bool scalar in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
            {
                var cRe = new float[m * ldc];
                var cIm = new float[m * ldc];
                Array.Fill(cRe, accumulate ? 0.5f : float.NaN);
                Array.Fill(cIm, accumulate ? -0.25f : float.NaN);
                ComplexGemm.MultiplyABt(aRe, aIm, lda, bRe, bIm, ldb, cRe, cIm, ldc, m, n, k, accumulate, scratch, scalar);
                double[] eRe = accumulate ? re.Select(v => v + 0.5).ToArray() : re;
                double[] eIm = accumulate ? im.Select(v => v - 0.25).ToArray() : im;
                double[] b = bound.Select(v => v + 1).ToArray();
                string what = $"{m}x{n}x{k} scalar={scalar} acc={accumulate}";
                GemmReference.AssertClose(eRe, b, cRe, m, n, ldc, 2e-6, "re " + what);
                GemmReference.AssertClose(eIm, b, cIm, m, n, ldc, 2e-6, "im " + what);
                for (int i = 0; i < m; i++)
                    for (int j = n; j < ldc; j++)
                        Assert.True(accumulate ? cRe[i * ldc + j] == 0.5f : float.IsNaN(cRe[i * ldc + j]), "C padding was written");
            }
    }

    public static TheoryData<int, int, int> RealPartShapes()
    {
        // m around the 4-row tile, n around the 4-row group, k around the vector and the panel.
        var data = new TheoryData<int, int, int>();
        foreach (int m in new[] { 0, 1, 3, 4, 5, 9 })
            foreach (int n in new[] { 1, 3, 4, 5 })
                foreach (int k in new[] { 0, 1, 7, 8, 9, 33 })
                    data.Add(m, n, k);
        data.Add(17, 13, 511);
        data.Add(8, 8, 512);
        data.Add(7, 5, 513);
        data.Add(6, 7, 1100);
        return data;
    }

    [Theory]
    [MemberData(nameof(RealPartShapes))]
    public void RealPartMatchesTheRealPartOfTheTripleLoopOnBothPaths(int m, int n, int k)
    {
        var rng = new Random(m * 10009 + n * 103 + k);
        int lda = k + 2, ldb = k + 5, ldc = n + 1;
        float[] aRe = GemmReference.Matrix(rng, m, k, 2), aIm = GemmReference.Matrix(rng, m, k, 2);
        float[] bRe = GemmReference.Matrix(rng, n, k, 5), bIm = GemmReference.Matrix(rng, n, k, 5);
        var (re, _, bound) = Reference(aRe, aIm, lda, bRe, bIm, ldb, m, n, k);
        var scratch = new float[ComplexGemm.ScratchLength(n, k)];
        foreach (bool scalar in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
            {
                var c = new float[m * ldc];
                Array.Fill(c, accumulate ? 0.75f : float.NaN);
                ComplexGemm.MultiplyABtRealPart(aRe, aIm, lda, bRe, bIm, ldb, c, ldc, m, n, k, accumulate, scratch, scalar);
                GemmReference.AssertClose(accumulate ? re.Select(v => v + 0.75).ToArray() : re, bound.Select(v => v + 1).ToArray(),
                    c, m, n, ldc, 2e-6, $"{m}x{n}x{k} scalar={scalar} acc={accumulate}");
                for (int i = 0; i < m; i++)
                    Assert.True(accumulate ? c[i * ldc + n] == 0.75f : float.IsNaN(c[i * ldc + n]), "C padding was written");
            }
    }

    [Fact]
    public void ScalarAndSimdPathsAgreeToFloatRounding()
    {
        var rng = new Random(1);
        const int m = 37, n = 23, k = 1031;
        float[] aRe = GemmReference.Matrix(rng, m, k, 0), aIm = GemmReference.Matrix(rng, m, k, 0);
        float[] bRe = GemmReference.Matrix(rng, n, k, 0), bIm = GemmReference.Matrix(rng, n, k, 0);
        var scratch = new float[ComplexGemm.ScratchLength(n, k)];
        float[] r1 = new float[m * n], i1 = new float[m * n], r2 = new float[m * n], i2 = new float[m * n];
        ComplexGemm.MultiplyABt(aRe, aIm, k, bRe, bIm, k, r1, i1, n, m, n, k, false, scratch, forceScalar: false);
        ComplexGemm.MultiplyABt(aRe, aIm, k, bRe, bIm, k, r2, i2, n, m, n, k, false, scratch, forceScalar: true);
        for (int i = 0; i < m * n; i++)
        {
            Assert.True(Math.Abs(r1[i] - r2[i]) < 1e-3, $"re {i}: {r1[i]} vs {r2[i]}");
            Assert.True(Math.Abs(i1[i] - i2[i]) < 1e-3, $"im {i}: {i1[i]} vs {i2[i]}");
        }
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(1, 7, 9)]
    [InlineData(5, 9, 33)]
    [InlineData(4, 32, 129)]
    [InlineData(9, 41, 3)]
    public void RealAtBMatchesTripleLoop(int m, int n, int k)
    {
        var rng = new Random(m + 31 * n + 977 * k);
        int lda = m + 2, ldb = n + 1, ldc = n + 3;
        float[] a = GemmReference.Matrix(rng, k, m, 2);
        float[] bRe = GemmReference.Matrix(rng, k, n, 1), bIm = GemmReference.Matrix(rng, k, n, 1);
        var eRe = new double[m * n];
        var eIm = new double[m * n];
        var bound = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int l = 0; l < k; l++)
                {
                    eRe[i * n + j] += (double)a[l * lda + i] * bRe[l * ldb + j];
                    eIm[i * n + j] += (double)a[l * lda + i] * bIm[l * ldb + j];
                    bound[i * n + j] += Math.Abs(a[l * lda + i]) * (Math.Abs(bRe[l * ldb + j]) + Math.Abs(bIm[l * ldb + j]));
                }
        foreach (bool scalar in new[] { false, true })
        {
            var cRe = new float[m * ldc];
            var cIm = new float[m * ldc];
            ComplexGemm.MultiplyRealAtB(a, lda, bRe, bIm, ldb, cRe, cIm, ldc, m, n, k, false, scalar);
            GemmReference.AssertClose(eRe, bound.Select(v => v + 1).ToArray(), cRe, m, n, ldc, 2e-6, $"re scalar={scalar}");
            GemmReference.AssertClose(eIm, bound.Select(v => v + 1).ToArray(), cIm, m, n, ldc, 2e-6, $"im scalar={scalar}");
        }
    }

    [Fact]
    public void RejectsOperandsShorterThanTheirShape()
    {
        var x = new float[10];
        var s = new float[ComplexGemm.ScratchLength(2, 5)];
        Assert.Throws<ArgumentException>(() => ComplexGemm.MultiplyABt(x, x, 5, x, x, 5, x, x, 2, 2, 2, 6, false, s));
        Assert.Throws<ArgumentException>(() => ComplexGemm.MultiplyABt(x, x, 4, x, x, 5, x, x, 2, 2, 2, 5, false, s));
        Assert.Throws<ArgumentException>(() => ComplexGemm.MultiplyABt(x, x, 5, x, x, 5, x, x, 2, 2, 2, 5, false, new float[1]));
    }
}
