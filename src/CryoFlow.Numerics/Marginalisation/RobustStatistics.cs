namespace CryoFlow.Numerics.Marginalisation;

/// <summary>Order statistics on scratch spans, in place and without allocation.</summary>
internal static class RobustStatistics
{
    /// <summary>Consistency factor of the median absolute deviation for a Gaussian: sigma = 1.4826 MAD.</summary>
    public const double MadToSigma = 1.4826;

    /// <summary>
    /// The median of <paramref name="values"/> (mean of the two middle values for an even count), reordering the
    /// span. Expected O(n); NaN-free input assumed.
    /// </summary>
    public static double Median(Span<float> values)
    {
        int n = values.Length;
        if (n == 0) throw new ArgumentException("median of an empty set", nameof(values));
        int mid = n / 2;
        float upper = Select(values, mid);
        if ((n & 1) == 1) return upper;
        // after selection everything left of mid is <= values[mid]: the lower middle is their maximum
        float lower = values[0];
        for (int i = 1; i < mid; i++)
            if (values[i] > lower) lower = values[i];
        return 0.5 * ((double)lower + upper);
    }

    /// <summary>
    /// The k-th smallest value (0-based), leaving it at index k with no larger value before it and no smaller one
    /// after. Median-of-three quickselect; falls back to a full sort if partitioning degenerates, so the worst case
    /// stays O(n log n).
    /// </summary>
    public static float Select(Span<float> a, int k)
    {
        if ((uint)k >= (uint)a.Length) throw new ArgumentOutOfRangeException(nameof(k));
        int lo = 0, hi = a.Length - 1;
        int budget = 2 * (64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)a.Length)) + 8;
        while (hi > lo)
        {
            if (budget-- == 0)
            {
                a.Slice(lo, hi - lo + 1).Sort();
                return a[k];
            }
            int mid = lo + ((hi - lo) >> 1);
            // median of three to a[mid]
            if (a[mid] < a[lo]) Swap(a, mid, lo);
            if (a[hi] < a[lo]) Swap(a, hi, lo);
            if (a[hi] < a[mid]) Swap(a, hi, mid);
            float pivot = a[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j)
                {
                    Swap(a, i, j);
                    i++;
                    j--;
                }
            }
            // now a[lo..j] <= pivot, a[i..hi] >= pivot, and a[j+1..i-1] == pivot
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return a[k];
        }
        return a[k];
    }

    private static void Swap(Span<float> a, int i, int j) => (a[i], a[j]) = (a[j], a[i]);
}
