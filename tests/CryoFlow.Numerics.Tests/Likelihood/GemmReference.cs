namespace CryoFlow.Numerics.Tests.Likelihood;

/// <summary>Random strided operands and triple-loop references in double for the GEMM tests.</summary>
internal static class GemmReference
{
    /// <summary>
    /// A rows x cols matrix with leading dimension cols + pad; the padding holds NaN so a GEMM that
    /// reads outside its matrix poisons its result.
    /// </summary>
    public static float[] Matrix(Random rng, int rows, int cols, int pad)
    {
        int ld = cols + pad;
        var a = new float[Math.Max(rows * ld, 0)];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < ld; j++)
                a[i * ld + j] = j < cols ? (float)(2 * rng.NextDouble() - 1) : float.NaN;
        return a;
    }

    /// <summary>|c − ref| ≤ tol · Σ_l |a||b| + tiny, per entry, and the padding of C untouched.</summary>
    public static void AssertClose(double[] expected, double[] bound, float[] actual, int m, int n, int ldc, double tol, string what)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double e = expected[i * n + j], a = actual[i * ldc + j];
                Assert.True(Math.Abs(e - a) <= tol * bound[i * n + j] + 1e-30, $"{what} C[{i},{j}] expected {e:R} got {a:R}");
            }
    }
}
