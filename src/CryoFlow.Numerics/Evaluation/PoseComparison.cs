using CryoFlow.Numerics.Geometry;
using MathNet.Numerics.LinearAlgebra;

namespace CryoFlow.Numerics.Evaluation;

/// <summary>How well estimated orientations match the true ones under the best global motion (<see cref="PoseComparison"/>).</summary>
/// <param name="Count">particles compared</param>
/// <param name="Global">the global rotation G fitted to the relative rotations</param>
/// <param name="Mirrored">whether the estimate matched the mirror image (J R J, J = diag(1, 1, -1)) of the truth</param>
/// <param name="LeftSide">whether G acts on the left of the rotations (R_est = G R_true) rather than the right (R_est = R_true G)</param>
/// <param name="ErrorsDeg">each particle's angular error after G, degrees, in input order</param>
public sealed record PoseAgreement(int Count, Rotation3 Global, bool Mirrored, bool LeftSide, double[] ErrorsDeg)
{
    /// <summary>The p-th percentile of the errors (p in [0, 100], linear between order statistics).</summary>
    public double Percentile(double p)
    {
        var sorted = ErrorsDeg.Order().ToArray();
        double pos = Math.Clamp(p, 0, 100) / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /// <summary>Fraction of particles within <paramref name="degrees"/> of the truth.</summary>
    public double FractionWithin(double degrees) => ErrorsDeg.Count(e => e <= degrees) / (double)ErrorsDeg.Length;
}

/// <summary>
/// Compares estimated particle orientations with the true ones. An ab-initio map comes out in an arbitrary
/// orientation and hand, so its poses equal the true ones only up to one global rotation (and the mirror), which
/// is fitted first: for each combination of side and hand, robustly (starting from many particles' relative
/// rotations, then the chordal mean of those within 10 degrees, five rounds), keeping the fit with the smallest
/// median error. It tells whether a run found the particles' orientations, which an FSC of the map alone can hide
/// when the map's low resolution is nearly symmetric.
/// </summary>
public static class PoseComparison
{
    private static readonly Rotation3 J = new(1, 0, 0, 0, 1, 0, 0, 0, -1);

    /// <param name="truth">true rotations (RELION matrices)</param>
    /// <param name="estimate">estimated rotations, same particles in the same order</param>
    /// <param name="starts">particles whose relative rotation seeds a fit</param>
    public static PoseAgreement Compare(IReadOnlyList<Rotation3> truth, IReadOnlyList<Rotation3> estimate, int starts = 200)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(estimate);
        if (truth.Count != estimate.Count) throw new ArgumentException($"{truth.Count} true poses but {estimate.Count} estimates");
        if (truth.Count == 0) throw new ArgumentException("no poses to compare");
        ArgumentOutOfRangeException.ThrowIfLessThan(starts, 1);
        PoseAgreement? best = null;
        double bestMedian = double.PositiveInfinity;
        foreach (bool mirrored in new[] { false, true })
            foreach (bool left in new[] { false, true })
            {
                var relative = new Rotation3[truth.Count];
                for (int i = 0; i < relative.Length; i++)
                {
                    var t = mirrored ? J * truth[i] * J : truth[i];
                    relative[i] = left ? estimate[i] * t.Transpose() : t.Transpose() * estimate[i];
                }
                var (g, errors, median) = Fit(relative, starts);
                if (median < bestMedian)
                {
                    bestMedian = median;
                    best = new PoseAgreement(truth.Count, g, mirrored, left, errors);
                }
            }
        return best!;
    }

    private static (Rotation3 G, double[] Errors, double Median) Fit(Rotation3[] relative, int starts)
    {
        int n = relative.Length, stride = Math.Max(1, n / starts);
        Rotation3 bestG = Rotation3.Identity;
        double[] bestErrors = [];
        double bestMedian = double.PositiveInfinity;
        var errors = new double[n];
        for (int s = 0; s < n; s += stride)
        {
            var g = relative[s];
            for (int round = 0; round < 5; round++)
            {
                var sum = new double[9];
                int inliers = 0;
                for (int i = 0; i < n; i++)
                {
                    if (MapAlignment.AngleBetweenDeg(relative[i], g) > 10) continue;
                    inliers++;
                    for (int k = 0; k < 9; k++) sum[k] += relative[i][k / 3, k % 3];
                }
                if (inliers < 3) break;
                g = NearestRotation(sum);
            }
            for (int i = 0; i < n; i++) errors[i] = MapAlignment.AngleBetweenDeg(relative[i], g);
            double median = Median(errors);
            if (median < bestMedian)
            {
                bestMedian = median;
                bestG = g;
                bestErrors = (double[])errors.Clone();
            }
        }
        return (bestG, bestErrors, bestMedian);
    }

    /// <summary>The rotation nearest a 3x3 matrix (row-major) in the Frobenius norm: U diag(1, 1, det(U V^T)) V^T.</summary>
    internal static Rotation3 NearestRotation(double[] m)
    {
        var a = Matrix<double>.Build.Dense(3, 3, (i, j) => m[i * 3 + j]);
        var svd = a.Svd(true);
        var uv = svd.U * svd.VT;
        var d = Matrix<double>.Build.DenseDiagonal(3, 3, 1);
        d[2, 2] = Math.Sign(uv.Determinant());
        var r = svd.U * d * svd.VT;
        return new Rotation3(r[0, 0], r[0, 1], r[0, 2], r[1, 0], r[1, 1], r[1, 2], r[2, 0], r[2, 1], r[2, 2]);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}
