namespace CryoFlow.Numerics.Marginalisation;

/// <summary>
/// One worker's running sum, over the particles it marginalised, of G[d, k] = dLL/dRe S[d, k] + i dLL/dIm S[d, k] for
/// every direction d of a <see cref="SliceSet"/> (the kernel's gradient, which includes the multiplicity m_k; the
/// projector's adjoint wants G / m_k, see <see cref="GradientAssembler"/>), plus the particle count and the summed
/// log-likelihood. Rows no particle touched stay zero and are skipped downstream. Not thread-safe: one per worker,
/// reduced in a fixed worker order by <see cref="GradientAssembler"/> so that a minibatch's gradient is reproducible
/// whenever the particle-to-worker assignment is.
/// </summary>
public sealed class SliceGradient
{
    private readonly float[] _re, _im;
    private readonly bool[] _touched;

    /// <param name="directions">slice-set size N_d</param>
    /// <param name="points">points per slice N_k</param>
    public SliceGradient(int directions, int points)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(directions);
        ArgumentOutOfRangeException.ThrowIfNegative(points);
        Directions = directions;
        Points = points;
        _re = new float[checked((long)directions * points)];
        _im = new float[_re.Length];
        _touched = new bool[directions];
    }

    /// <summary>A gradient buffer shaped for <paramref name="slices"/>.</summary>
    public SliceGradient(SliceSet slices) : this(slices?.Count ?? throw new ArgumentNullException(nameof(slices)), slices.Points)
    {
    }

    public int Directions { get; }

    public int Points { get; }

    /// <summary>Particles accumulated since the last <see cref="Clear"/>.</summary>
    public long Particles { get; private set; }

    /// <summary>Σ LL over those particles, double.</summary>
    public double LogLikelihoodSum { get; private set; }

    /// <summary>[Directions x Points] Re G.</summary>
    public ReadOnlySpan<float> Re => _re;

    /// <summary>[Directions x Points] Im G.</summary>
    public ReadOnlySpan<float> Im => _im;

    /// <summary>Whether any particle added to direction <paramref name="direction"/>'s row.</summary>
    public bool IsTouched(int direction) => _touched[direction];

    /// <summary>Zero the rows that were touched and the totals.</summary>
    public void Clear()
    {
        int nk = Points;
        for (int d = 0; d < Directions; d++)
        {
            if (!_touched[d]) continue;
            _re.AsSpan(d * nk, nk).Clear();
            _im.AsSpan(d * nk, nk).Clear();
            _touched[d] = false;
        }
        Particles = 0;
        LogLikelihoodSum = 0;
    }

    internal void AddRow(int direction, ReadOnlySpan<float> re, ReadOnlySpan<float> im)
    {
        int nk = Points;
        System.Numerics.Tensors.TensorPrimitives.Add(_re.AsSpan(direction * nk, nk), re, _re.AsSpan(direction * nk, nk));
        System.Numerics.Tensors.TensorPrimitives.Add(_im.AsSpan(direction * nk, nk), im, _im.AsSpan(direction * nk, nk));
        _touched[direction] = true;
    }

    internal void CountParticle(double logLikelihood)
    {
        Particles++;
        LogLikelihoodSum += logLikelihood;
    }
}
