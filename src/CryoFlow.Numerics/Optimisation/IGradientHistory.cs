namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// The SAG memory (DESIGN 5): the latest gradient of every minibatch, the weight each carries in the average and
/// their weighted running sum g_bar = sum_b w_b g_b. The optimiser does the arithmetic; a store only keeps the
/// numbers, so a disk-backed store (large datasets) or one keeping only the band-limited part of each gradient
/// can replace <see cref="InMemoryGradientHistory"/> without touching the optimiser. Gradients are opaque vectors
/// of <see cref="Length"/> floats; what a store writes for them is its business as long as
/// <see cref="TryRead"/> returns what the optimiser must subtract from the sum.
/// </summary>
/// <remarks>
/// <see cref="Sum"/> and <see cref="Weights"/> are small or volume-sized and live in memory in every
/// implementation; together with the per-batch gradients they are the whole state a checkpoint must save.
/// A weight of 0 means the batch does not count (never seen, or forgotten).
/// </remarks>
public interface IGradientHistory
{
    /// <summary>Number of minibatches n; batch ids are 0..n-1.</summary>
    int BatchCount { get; }

    /// <summary>Floats per gradient.</summary>
    int Length { get; }

    /// <summary>Whether a gradient is stored for <paramref name="batch"/>.</summary>
    bool Contains(int batch);

    /// <summary>Copies the stored gradient of <paramref name="batch"/> into <paramref name="destination"/>; false (destination untouched) when none is stored.</summary>
    bool TryRead(int batch, Span<float> destination);

    /// <summary>Stores <paramref name="gradient"/> as the latest gradient of <paramref name="batch"/>, replacing any previous one.</summary>
    void Write(int batch, ReadOnlySpan<float> gradient);

    /// <summary>
    /// Stores the gradient of a batch marginalised in the band |k| &lt;= <paramref name="bandRadius"/>
    /// (<see cref="OptimiserContext.BandRadius"/>) and leaves in <paramref name="gradient"/> exactly what
    /// <see cref="TryRead"/> will return for it, so the optimiser adds to the sum what it later subtracts. A store that
    /// keeps only the band's Fourier coefficients (DESIGN 5) truncates and rounds here; the default stores the gradient
    /// as it is and leaves it unchanged.
    /// </summary>
    void Write(int batch, Span<float> gradient, double bandRadius) => Write(batch, (ReadOnlySpan<float>)gradient);

    /// <summary>The running weighted sum g_bar, maintained by the optimiser.</summary>
    Span<float> Sum { get; }

    /// <summary>w_b per batch (n values), maintained by the optimiser.</summary>
    Span<double> Weights { get; }

    /// <summary>Forgets every gradient and zeroes the sum and the weights.</summary>
    void Clear();

    /// <summary>Adds minibatches, none stored and of weight 0, up to <paramref name="batchCount"/> (a live run's data grow).</summary>
    void Grow(int batchCount) => throw new NotSupportedException($"{GetType().Name} cannot grow");
}

/// <summary>
/// <see cref="IGradientHistory"/> in RAM: one array per minibatch, allocated the first time the batch is written
/// (n x Length floats once every batch has been seen: 1.6 GB for 199 batches of 128^3).
/// </summary>
public sealed class InMemoryGradientHistory : IGradientHistory
{
    private float[]?[] _gradients;
    private readonly float[] _sum;
    private double[] _weights;

    public InMemoryGradientHistory(int batchCount, int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _gradients = new float[]?[batchCount];
        _sum = new float[length];
        _weights = new double[batchCount];
    }

    public int BatchCount => _gradients.Length;

    public int Length => _sum.Length;

    public Span<float> Sum => _sum;

    public Span<double> Weights => _weights;

    public bool Contains(int batch) => _gradients[CheckBatch(batch)] is not null;

    public bool TryRead(int batch, Span<float> destination)
    {
        if (_gradients[CheckBatch(batch)] is not float[] stored) return false;
        CheckLength(destination.Length, nameof(destination));
        stored.CopyTo(destination);
        return true;
    }

    public void Write(int batch, ReadOnlySpan<float> gradient)
    {
        CheckBatch(batch);
        CheckLength(gradient.Length, nameof(gradient));
        gradient.CopyTo(_gradients[batch] ??= new float[Length]);
    }

    public void Clear()
    {
        Array.Clear(_gradients);
        Array.Clear(_sum);
        Array.Clear(_weights);
    }

    public void Grow(int batchCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchCount, BatchCount);
        Array.Resize(ref _gradients, batchCount);
        Array.Resize(ref _weights, batchCount);
    }

    private int CheckBatch(int batch)
    {
        if ((uint)batch >= (uint)_gradients.Length)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch ids are 0..{_gradients.Length - 1}");
        return batch;
    }

    private void CheckLength(int length, string name)
    {
        if (length != Length) throw new ArgumentException($"{length} floats where the history holds {Length}", name);
    }
}
