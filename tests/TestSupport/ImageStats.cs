namespace CryoFlow.TestSupport;

/// <summary>Statistics of images in tests.</summary>
public static class ImageStats
{
    /// <summary>Pearson correlation (means removed): 1 for images equal up to an offset and a positive scale.</summary>
    public static double Correlation(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"images of {a.Length} and {b.Length} pixels");
        double ma = 0, mb = 0;
        for (int i = 0; i < a.Length; i++) { ma += a[i]; mb += b[i]; }
        ma /= a.Length;
        mb /= b.Length;
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double x = a[i] - ma, y = b[i] - mb;
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        return ab / Math.Sqrt(aa * bb);
    }
}
