namespace CryoFlow.Numerics.Sampling;

/// <summary>
/// The dataset-average proposal of one factor on one level (REFERENCE 4.6): the sum over training particles of their
/// latest kernel-smoothed annealed distributions. A particle's contribution is added when it is recorded and the
/// previous one subtracted; particles not yet seen count as uniform in <see cref="Snapshot"/>. Accumulating costs
/// O(state x neighbours). Thread-safe.
/// </summary>
public sealed class GlobalDistribution
{
    private readonly double[] _sum;
    private readonly object _gate = new();
    private double _weight;

    public GlobalDistribution(FactorDomain domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        Domain = domain;
        _sum = new double[domain.Count];
    }

    public FactorDomain Domain { get; }

    /// <summary>Number of particles (net) whose distributions are in the sum.</summary>
    public double Weight
    {
        get { lock (_gate) return _weight; }
    }

    /// <summary>Add (sign = +1) or remove (sign = -1) a particle's smoothed state, through a kernel onto this domain.</summary>
    /// <param name="kernel">from the state's level to <see cref="Domain"/></param>
    public void Accumulate(FactorState state, KernelTable kernel, double sign = 1)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernel.Target != Domain) throw new ArgumentException("the kernel must map onto this distribution's domain", nameof(kernel));
        if (kernel.Source.LevelId != state.LevelId) throw new ArgumentException($"state is on level {state.LevelId}, kernel from {kernel.Source.LevelId}", nameof(kernel));
        if (sign != 1 && sign != -1) throw new ArgumentOutOfRangeException(nameof(sign), sign, "must be +1 or -1");
        double z = 0;
        for (int k = 0; k < state.Count; k++) z += state.Values[k] * kernel.RowSum(CheckedRow(state.Indices[k], kernel));
        if (!(z > 0)) return;
        lock (_gate)
        {
            for (int k = 0; k < state.Count; k++)
            {
                int i = state.Indices[k];
                double c = sign * state.Values[k] / z;
                var nb = kernel.Neighbours(i);
                var kv = kernel.Values(i);
                for (int e = 0; e < nb.Length; e++) _sum[nb[e]] += c * kv[e];
            }
            _weight += sign;
        }
    }

    /// <summary>
    /// Carry an accumulator onto a new level when the quadrature changes (REFERENCE 4.6): each old point's mass is
    /// spread over its kernel neighbours on the new domain (row-normalised, so the total and the weight are kept).
    /// Particles recorded on the old level are later removed through the same kernel, which is approximate.
    /// </summary>
    /// <param name="kernel">from <paramref name="old"/>'s domain to the new one</param>
    public static GlobalDistribution Remap(GlobalDistribution old, KernelTable kernel)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(kernel);
        if (kernel.Source != old.Domain) throw new ArgumentException("the kernel must start from the old distribution's domain", nameof(kernel));
        var fresh = new GlobalDistribution(kernel.Target);
        lock (old._gate)
        {
            for (int i = 0; i < old._sum.Length; i++)
            {
                double s = kernel.RowSum(i);
                if (old._sum[i] == 0 || !(s > 0)) continue;
                var nb = kernel.Neighbours(i);
                var kv = kernel.Values(i);
                for (int e = 0; e < nb.Length; e++) fresh._sum[nb[e]] += old._sum[i] * kv[e] / s;
            }
            fresh._weight = old._weight;
        }
        return fresh;
    }

    /// <summary>The accumulated sum (one value per domain point) and the weight, for a checkpoint.</summary>
    public (double[] Sum, double Weight) Export()
    {
        lock (_gate) return ((double[])_sum.Clone(), _weight);
    }

    /// <summary>A distribution holding a sum and weight from <see cref="Export"/> (a resumed run).</summary>
    public static GlobalDistribution Import(FactorDomain domain, ReadOnlySpan<double> sum, double weight)
    {
        var distribution = new GlobalDistribution(domain);
        if (sum.Length != distribution._sum.Length)
            throw new ArgumentException($"{sum.Length} values for a domain of {distribution._sum.Length} points", nameof(sum));
        sum.CopyTo(distribution._sum);
        distribution._weight = weight;
        return distribution;
    }

    /// <summary>Normalised distribution with <paramref name="particleCount"/> - weight unseen particles counted as uniform.</summary>
    public GlobalSnapshot Snapshot(int particleCount)
    {
        int m = _sum.Length;
        var p = new double[m];
        lock (_gate)
        {
            double unseen = Math.Max(0, particleCount - _weight);
            for (int j = 0; j < m; j++) p[j] = Math.Max(0, _sum[j]) + unseen / m;
        }
        return new GlobalSnapshot(p);
    }

    private static int CheckedRow(int i, KernelTable kernel) =>
        (uint)i < (uint)kernel.Source.Count ? i : throw new ArgumentException($"state index {i} is outside its level ({kernel.Source.Count} points)");
}

/// <summary>A frozen, normalised global distribution with what sampling needs: cumulative sums and sum of squares. Immutable.</summary>
public sealed class GlobalSnapshot
{
    private readonly double[] _p, _cumulative;

    /// <param name="weights">[M] non-negative, not all zero; normalised here</param>
    public GlobalSnapshot(ReadOnlySpan<double> weights)
    {
        double total = 0;
        foreach (double w in weights)
        {
            if (!(w >= 0) || double.IsInfinity(w)) throw new ArgumentException($"weight {w} is not finite and non-negative", nameof(weights));
            total += w;
        }
        if (!(total > 0)) throw new ArgumentException("weights sum to zero", nameof(weights));
        _p = new double[weights.Length];
        _cumulative = new double[weights.Length];
        double run = 0, sq = 0;
        for (int j = 0; j < _p.Length; j++)
        {
            _p[j] = weights[j] / total;
            sq += _p[j] * _p[j];
            run += _p[j];
            _cumulative[j] = run;
        }
        _cumulative[^1] = 1;
        SumOfSquares = sq;
    }

    /// <summary>The uniform distribution over M points.</summary>
    public static GlobalSnapshot Uniform(int count)
    {
        var w = new double[count];
        Array.Fill(w, 1.0);
        return new GlobalSnapshot(w);
    }

    public int Count => _p.Length;

    public ReadOnlySpan<double> Probabilities => _p;

    /// <summary>sum_j G_j^2, used by the ESS of the mixture without touching all M points per particle.</summary>
    public double SumOfSquares { get; }

    /// <summary>Draw an index with probability G_j from u uniform in [0, 1).</summary>
    public int Draw(double u) => SearchCumulative(_cumulative, u);

    internal static int SearchCumulative(ReadOnlySpan<double> cumulative, double u)
    {
        int lo = 0, hi = cumulative.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] > u) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }
}
