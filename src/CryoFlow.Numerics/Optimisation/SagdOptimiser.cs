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
/// </remarks>
public sealed class SagdOptimiser : LipschitzStepOptimiser
{
    private readonly Schedule? _window;

    /// <param name="history">the store; its length must be <paramref name="length"/>; null for an <see cref="InMemoryGradientHistory"/></param>
    public SagdOptimiser(int length, int batchCount, SagdOptions options, IGradientHistory? history = null)
        : base(length, Validated(options).StepScale, options.LineSearch, options.LowerBound)
    {
        History = history ?? new InMemoryGradientHistory(batchCount, length);
        if (History.Length != length) throw new ArgumentException($"history holds {History.Length} floats per gradient, the optimiser {length}", nameof(history));
        if (History.BatchCount != batchCount) throw new ArgumentException($"history holds {History.BatchCount} batches, expected {batchCount}", nameof(history));
        _window = options.ForgettingWindow;
    }

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

    public override void ResetMemory() => History.Clear();

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
        TensorPrimitives.Add(sum, context.DataGradient, sum);
        History.Write(batch, context.DataGradient);

        double total = TotalWeight;
        TensorPrimitives.MultiplyAdd(sum, (float)(-stepSize / total), context.Volume, context.Volume);
        if (!context.PriorGradient.IsEmpty)
            TensorPrimitives.MultiplyAdd(context.PriorGradient, (float)-stepSize, context.Volume, context.Volume);
    }

    private static SagdOptions Validated(SagdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }
}
