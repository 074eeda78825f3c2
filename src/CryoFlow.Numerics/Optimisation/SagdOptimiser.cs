using System.Numerics.Tensors;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// Stochastic Average Gradient Descent (DESIGN 5, REFERENCE 5.2). Each step stores the minibatch's new gradient
/// g_k in the history in place of its previous one, keeps the weighted sum g_bar = sum_b w_b g_b current, and moves
/// <code>V -= (eps/L) (g_bar / sum_b w_b + prior gradient),  then V = max(V, lower bound)</code>
/// The prior gradient is added fresh at every step and never stored.
/// </summary>
/// <remarks>
/// Memory, by <see cref="SagdOptions.ForgettingWindow"/>:
/// <list type="bullet">
/// <item>null (default, the paper's SAG): every stored batch has weight 1, so the direction is the plain mean of
/// the latest gradients of the batches seen so far (the mean over seen batches, not over all n, so the first epoch
/// is not damped by batches that have not contributed yet).</item>
/// <item>a window schedule W(tau) &gt;= 1 (the reference code, <see cref="ReferenceSchedules.ForgettingWindow"/> =
/// 1 + 0.1 tau): with mu = 1 - 1/W(tau), replacing batch k first removes w_k g_k(old), then multiplies every
/// weight and the sum by mu, then adds g_k with weight 1. Old gradients, taken at densities far from the current
/// one, fade; as W grows past n the average approaches plain SAG.</item>
/// </list>
/// The history is not reset when w* changes (as in the reference): batches' stale gradients are replaced as they
/// come round; call <see cref="ResetMemory"/> to forget them.
/// <para>Band-aware mean: a gradient stored at an earlier, smaller w* is zero in the shells added since, so after
/// w* grows the plain mean g_bar / sum_b w_b would damp the new shells by the share of batches not yet revisited
/// (the whole first epoch of a stage). When the stored gradients' bands differ (<see cref="OptimiserContext.BandRadius"/>)
/// and the parameters are a D^3 volume, the mean is taken shell by shell in Fourier space: each coefficient at radius
/// |k| is divided by the summed weight of the batches whose band covers |k|. With equal bands it is the plain mean.</para>
/// </remarks>
public sealed class SagdOptimiser : LipschitzStepOptimiser
{
    private readonly Schedule? _window;

    /// <param name="history">the store; its length must be <paramref name="length"/>; null for an <see cref="InMemoryGradientHistory"/></param>
    public SagdOptimiser(int length, int batchCount, SagdOptions options, IGradientHistory? history = null)
        : base(length, Validated(options).StepScale, options.LineSearch, options.Constraint)
    {
        History = history ?? new InMemoryGradientHistory(batchCount, length);
        if (History.Length != length) throw new ArgumentException($"history holds {History.Length} floats per gradient, the optimiser {length}", nameof(history));
        if (History.BatchCount != batchCount) throw new ArgumentException($"history holds {History.BatchCount} batches, expected {batchCount}", nameof(history));
        _window = options.ForgettingWindow;
        _bands = new double[batchCount];
        _distinctBands = new double[batchCount];
        _distinctWeights = new double[batchCount];
        int box = (int)Math.Round(Math.Cbrt(length));
        if (box >= 2 && box % 2 == 0 && (long)box * box * box == length)
        {
            _fft = Fourier.FftBackends.Default.Plan3D(box);
            _spectrum = new float[_fft.ComplexLength];
            _shellWeight = new double[3 * (box / 2) * (box / 2) + 1];
        }
    }

    private double[] _bands, _distinctBands, _distinctWeights;

    /// <summary>Adds minibatches (a live run's data grow): none stored, weight 0, so the average is over those seen.</summary>
    public void Grow(int batchCount)
    {
        History.Grow(batchCount);
        Array.Resize(ref _bands, batchCount);
        Array.Resize(ref _distinctBands, batchCount);
        Array.Resize(ref _distinctWeights, batchCount);
    }
    private readonly Fourier.IFft3D? _fft;
    private readonly float[]? _spectrum;
    private readonly double[]? _shellWeight;

    /// <summary>The band radius (<see cref="OptimiserContext.BandRadius"/>) of each batch's stored gradient; 0 before its first.</summary>
    public Span<double> Bands => _bands;

    /// <summary>The SAG memory (for checkpoints and telemetry).</summary>
    public IGradientHistory History { get; }

    /// <summary>sum_b w_b: the number of batches seen for plain SAG.</summary>
    public double TotalWeight
    {
        get
        {
            double total = 0;
            foreach (double w in History.Weights) total += w;
            return total;
        }
    }

    /// <summary>mu(tau) = 1 - 1/W(tau); 1 without a forgetting window.</summary>
    public double ForgettingFactor(int iteration)
    {
        if (_window is null) return 1;
        double w = _window.At(iteration);
        if (!(w >= 1)) throw new InvalidOperationException($"forgetting window W({iteration}) = {w}; it must be >= 1");
        return 1 - 1 / w;
    }

    public override void ResetMemory()
    {
        History.Clear();
        Array.Clear(_bands);
    }

    private protected override void CheckBatch(int batch)
    {
        if ((uint)batch >= (uint)History.BatchCount)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch ids are 0..{History.BatchCount - 1}");
    }

    private protected override void Move(in OptimiserContext context, ReadOnlySpan<float> gradient, double stepSize, Span<float> scratch)
    {
        int batch = context.Batch;
        Span<float> sum = History.Sum;
        Span<double> weights = History.Weights;

        if (History.TryRead(batch, scratch) && weights[batch] != 0)
            TensorPrimitives.MultiplyAdd(scratch, (float)-weights[batch], sum, sum);
        double mu = ForgettingFactor(context.Iteration);
        if (mu != 1)
        {
            TensorPrimitives.Multiply(sum, (float)mu, sum);
            for (int b = 0; b < weights.Length; b++) weights[b] *= mu;
        }
        weights[batch] = 1;
        _bands[batch] = context.BandRadius;
        context.DataGradient.CopyTo(scratch);
        History.Write(batch, scratch, context.BandRadius); // scratch: what the history will give back
        TensorPrimitives.Add(sum, scratch, sum);

        double total = TotalWeight;
        if (BandsDiffer(weights) || !context.ShellPreconditioner.IsEmpty)
        {
            BandAwareMean(sum, weights, context.ShellPreconditioner, scratch);
            TensorPrimitives.MultiplyAdd(scratch, (float)-stepSize, context.Volume, context.Volume);
        }
        else
        {
            TensorPrimitives.MultiplyAdd(sum, (float)(-stepSize / total), context.Volume, context.Volume);
        }
        if (!context.PriorGradient.IsEmpty)
            TensorPrimitives.MultiplyAdd(context.PriorGradient, (float)-stepSize, context.Volume, context.Volume);
    }

    /// <summary>Whether the batches in the memory were marginalised in different bands.</summary>
    private bool BandsDiffer(ReadOnlySpan<double> weights)
    {
        double first = double.NaN;
        for (int b = 0; b < weights.Length; b++)
        {
            if (weights[b] == 0) continue;
            if (double.IsNaN(first)) first = _bands[b];
            else if (_bands[b] != first) return true;
        }
        return false;
    }

    /// <summary>
    /// mean = F^-1[ P(|k|^2) F[sum](k) / W(|k|) ], W(r) = sum of the weights of the batches whose band is &gt;= r (all of
    /// them where none is), P the shell preconditioner (1 when empty).
    /// </summary>
    private void BandAwareMean(ReadOnlySpan<float> sum, ReadOnlySpan<double> weights, ReadOnlySpan<float> preconditioner, Span<float> mean)
    {
        if (_fft is null)
            throw new InvalidOperationException($"band-limited or preconditioned gradients need a D^3 volume; this optimiser holds {Length} parameters");
        if (!preconditioner.IsEmpty && preconditioner.Length != _shellWeight!.Length)
            throw new ArgumentException($"the shell preconditioner has {preconditioner.Length} entries, expected 3 (D/2)^2 + 1 = {_shellWeight.Length}", nameof(preconditioner));
        var fft = _fft;
        var spectrum = _spectrum!;
        var shell = _shellWeight!;
        int d = fft.BoxSize;
        // the distinct bands (one per stage seen, a handful) with their summed weights, then each shell's covering weight
        int distinct = 0;
        double total = 0;
        for (int b = 0; b < weights.Length; b++)
        {
            if (weights[b] == 0) continue;
            total += weights[b];
            int k = 0;
            while (k < distinct && _distinctBands[k] != _bands[b]) k++;
            if (k == distinct) { _distinctBands[k] = _bands[b]; _distinctWeights[k] = 0; distinct++; }
            _distinctWeights[k] += weights[b];
        }
        for (int r2 = 0; r2 < shell.Length; r2++)
        {
            double radius = Math.Sqrt(r2), w = 0;
            for (int k = 0; k < distinct; k++)
                if (_distinctBands[k] >= radius) w += _distinctWeights[k];
            shell[r2] = (w > 0 ? w : total) / (preconditioner.IsEmpty ? 1 : preconditioner[r2]);
        }
        fft.Forward(sum, spectrum);
        for (int c = 0; c < spectrum.Length / 2; c++)
        {
            float scale = (float)(1 / shell[Fourier.FourierLayout.HalfSpaceSquaredRadius(c, d)]);
            spectrum[2 * c] *= scale;
            spectrum[2 * c + 1] *= scale;
        }
        fft.Inverse(spectrum, mean);
    }

    private static SagdOptions Validated(SagdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }
}
