namespace CryoFlow.Pipeline.Report;

/// <summary>
/// Thins a long (x, y) series for a chart: Largest-Triangle-Three-Buckets (Steinarsson, "Downsampling time series
/// for visual representation", 2013). The first and last points stay; the rest is cut into equal buckets and each
/// bucket keeps the point that spans the largest triangle with the point kept before it and the mean of the next
/// bucket, so spikes and turns survive where every-n-th sampling would drop them.
/// </summary>
public static class SeriesThinning
{
    /// <summary>The indices of the points to keep, increasing.</summary>
    /// <param name="x">abscissae, non-decreasing</param>
    /// <param name="y">ordinates, finite</param>
    /// <param name="maxPoints">at most this many indices (at least 3); a series no longer than this is kept whole</param>
    public static int[] Lttb(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int maxPoints)
    {
        if (x.Length != y.Length) throw new ArgumentException($"{x.Length} abscissae but {y.Length} ordinates", nameof(y));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 3);
        int n = x.Length;
        if (n <= maxPoints) return Enumerable.Range(0, n).ToArray();

        var kept = new int[maxPoints];
        double bucket = (n - 2) / (double)(maxPoints - 2);
        int a = 0;
        for (int i = 0; i < maxPoints - 2; i++)
        {
            // the mean of the next bucket (the last point when this is the last bucket)
            int nextStart = (int)Math.Floor((i + 1) * bucket) + 1, nextEnd = Math.Min((int)Math.Floor((i + 2) * bucket) + 1, n);
            if (nextStart >= nextEnd) (nextStart, nextEnd) = (n - 1, n);
            double meanX = 0, meanY = 0;
            for (int j = nextStart; j < nextEnd; j++) { meanX += x[j]; meanY += y[j]; }
            meanX /= nextEnd - nextStart;
            meanY /= nextEnd - nextStart;

            int start = (int)Math.Floor(i * bucket) + 1, end = (int)Math.Floor((i + 1) * bucket) + 1;
            double bestArea = -1;
            int best = start;
            for (int j = start; j < end; j++)
            {
                double area = Math.Abs((x[a] - meanX) * (y[j] - y[a]) - (x[a] - x[j]) * (meanY - y[a]));
                if (area > bestArea) { bestArea = area; best = j; }
            }
            kept[i + 1] = best;
            a = best;
        }
        kept[^1] = n - 1;
        return kept;
    }
}
