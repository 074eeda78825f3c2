using System.Numerics;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>Reductions of float vectors accumulated in double: line-search tests compare small differences of sums over millions of voxels.</summary>
internal static class VectorMath
{
    /// <summary>sum a_i b_i in double.</summary>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"length mismatch ({a.Length} and {b.Length})", nameof(b));
        int i = 0;
        var acc = Vector<double>.Zero;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(a[i..]), out var alo, out var ahi);
                Vector.Widen(new Vector<float>(b[i..]), out var blo, out var bhi);
                acc += alo * blo + ahi * bhi;
            }
        }
        double sum = Vector.Sum(acc);
        for (; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }

    /// <summary>sum a_i in double.</summary>
    public static double Sum(ReadOnlySpan<float> a)
    {
        int i = 0;
        var acc = Vector<double>.Zero;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(a[i..]), out var lo, out var hi);
                acc += lo + hi;
            }
        }
        double sum = Vector.Sum(acc);
        for (; i < a.Length; i++) sum += a[i];
        return sum;
    }

    /// <summary>sum a_i^2 in double.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> a) => Dot(a, a);

    /// <summary>sum over i of (b_i - a_i) g_i and sum of (b_i - a_i)^2 in double: the step taken from a to b, projected on g, and its squared length.</summary>
    public static (double Along, double SquaredLength) Displacement(ReadOnlySpan<float> from, ReadOnlySpan<float> to, ReadOnlySpan<float> g)
    {
        if (from.Length != to.Length || from.Length != g.Length) throw new ArgumentException("length mismatch", nameof(to));
        double along = 0, squared = 0;
        for (int i = 0; i < from.Length; i++)
        {
            double d = (double)to[i] - from[i];
            along += d * g[i];
            squared += d * d;
        }
        return (along, squared);
    }
}
