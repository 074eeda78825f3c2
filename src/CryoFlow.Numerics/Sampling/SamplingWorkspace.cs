namespace CryoFlow.Numerics.Sampling;

/// <summary>
/// Per-worker scratch and output of one factor's sampler. Arrays grow to the largest domain seen and are reused,
/// so sampling a particle allocates nothing once warm. Dense scratch is never cleared in full: a generation stamp marks
/// the points touched by the current particle. Not thread-safe: one per worker per factor.
/// </summary>
public sealed class SamplingWorkspace
{
    private double[] _smoothed = [];
    private int[] _stamp = [], _counts = [], _support = [], _indices = [];
    private double[] _logWeights = [], _stateCumulative = [];
    private int _generation;

    /// <summary>Distinct points to evaluate, ascending.</summary>
    public ReadOnlySpan<int> Indices => _indices.AsSpan(0, Count);

    /// <summary>log importance weight per point: log(count_j / (N q_j)); 0 on a full grid.</summary>
    public ReadOnlySpan<double> LogWeights => _logWeights.AsSpan(0, Count);

    /// <summary>Number of distinct points.</summary>
    public int Count { get; private set; }

    /// <summary>True when the whole grid is evaluated (first visit, or ESS &gt;= FullGridFraction M).</summary>
    public bool IsFullGrid { get; private set; }

    /// <summary>ESS(q) = 1 / sum q^2 of the last proposal (M on a first visit).</summary>
    public double EffectiveSampleSize { get; private set; }

    /// <summary>N, draws with replacement (0 on a full grid).</summary>
    public int Draws { get; private set; }

    /// <summary>Running count of kernel values read while building proposals (the sparse-cost witness).</summary>
    public long KernelEvaluations { get; set; }

    internal void Ensure(int m, int stateCount)
    {
        if (_smoothed.Length < m)
        {
            _smoothed = new double[m];
            _stamp = new int[m];
            _counts = new int[m];
            _support = new int[m];
            _indices = new int[m];
            _logWeights = new double[m];
            _generation = 0;
        }
        if (_stateCumulative.Length < stateCount) _stateCumulative = new double[Math.Max(stateCount, 2 * _stateCumulative.Length)];
    }

    internal int NextGeneration()
    {
        if (++_generation == int.MaxValue)
        {
            Array.Clear(_stamp);
            _generation = 1;
        }
        return _generation;
    }

    internal Span<double> Smoothed => _smoothed;

    internal Span<int> Stamp => _stamp;

    internal Span<int> Counts => _counts;

    internal Span<int> Support => _support;

    internal Span<double> StateCumulative => _stateCumulative;

    internal Span<int> IndexBuffer => _indices;

    internal Span<double> LogWeightBuffer => _logWeights;

    internal void SetResult(int count, bool fullGrid, double ess, int draws)
    {
        Count = count;
        IsFullGrid = fullGrid;
        EffectiveSampleSize = ess;
        Draws = draws;
    }
}
