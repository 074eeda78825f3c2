namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// The current minibatch's objective at a trial point: the mean negative log-likelihood of the minibatch's images
/// (with the importance samples of this iteration) plus -log p(V) / N_train; the same function whose gradient is
/// <see cref="OptimiserContext.DataGradient"/> + <see cref="OptimiserContext.PriorGradient"/>. Used by line searches.
/// </summary>
/// <param name="point">a density of the optimiser's length; must not be kept after the call</param>
public delegate double MinibatchObjective(ReadOnlySpan<float> point);

/// <summary>
/// What one optimiser step needs: everything the caller computed at the current density for the current
/// minibatch. All gradients are of per-image means (DESIGN 5: minibatch NLL / batch size, prior / N_train), so
/// that L and step sizes do not depend on the dataset size.
/// </summary>
public readonly ref struct OptimiserContext
{
    public OptimiserContext() { }

    /// <summary>tau, 0-based; drives the optimiser's schedules.</summary>
    public required int Iteration { get; init; }

    /// <summary>Id of the current minibatch, in [0, batch count).</summary>
    public required int Batch { get; init; }

    /// <summary>The density V, updated in place (real-space voxels, or any parameter vector of the optimiser's length).</summary>
    public required Span<float> Volume { get; init; }

    /// <summary>g_k: gradient of the minibatch's mean NLL at <see cref="Volume"/>.</summary>
    public required ReadOnlySpan<float> DataGradient { get; init; }

    /// <summary>Gradient of -log p(V) / N_train at <see cref="Volume"/>; empty when there is no prior term.</summary>
    public ReadOnlySpan<float> PriorGradient { get; init; }

    /// <summary>f_b(V), the minibatch objective at <see cref="Volume"/> when already known (saves a line-search evaluation); NaN otherwise.</summary>
    public double Objective { get; init; } = double.NaN;

    /// <summary>f_b at a trial point, for the line search; null disables line searches (L then stays as it is).</summary>
    public MinibatchObjective? ObjectiveAt { get; init; }

    /// <summary>Whether w* changed at this iteration (triggers a line search by default).</summary>
    public bool MaxFrequencyChanged { get; init; }

    /// <summary>
    /// Radius, in Fourier pixels of the D^3 volume (r* = w* D apix), beyond which <see cref="DataGradient"/> carries
    /// nothing: the band the minibatch was marginalised in. SAGD averages each Fourier shell over the stored gradients
    /// whose band covers it. Infinity (the default): not band-limited.
    /// </summary>
    public double BandRadius { get; init; } = double.PositiveInfinity;

    /// <summary>
    /// Optional diagonal preconditioner of the data term in Fourier space, by shell: entry j scales the coefficients
    /// with |k|^2 = j (integer Fourier px of the D^3 volume; 3 (D/2)^2 + 1 entries). Set it to H_max / H(|k|), the
    /// inverse of the likelihood's curvature per shell relative to its largest, so that every shell converges at the
    /// rate of the stiffest one (a step eps/L is stable for that one). Empty: none. Used by SAGD only.
    /// </summary>
    public ReadOnlySpan<float> ShellPreconditioner { get; init; }
}

/// <summary>Telemetry of one step (DESIGN 7: L, eps per iteration).</summary>
/// <param name="Iteration">tau of the step</param>
/// <param name="Lipschitz">L used for the step; NaN for optimisers without one (AdaGrad)</param>
/// <param name="StepScale">eps (or the learning rate) from the optimiser's schedule</param>
/// <param name="StepSize">the multiplier of the direction: eps / L, or the learning rate</param>
/// <param name="Searched">whether a line search ran at this step</param>
/// <param name="LineSearchEvaluations">objective evaluations spent by the line search</param>
public readonly record struct StepReport(int Iteration, double Lipschitz, double StepScale, double StepSize, bool Searched, int LineSearchEvaluations);

/// <summary>
/// One rule for updating the density from minibatch gradients: SAGD (the default), SGD, heavy-ball momentum,
/// Nesterov momentum, AdaGrad. Every implementation projects the density onto V &gt;= lower bound after each step.
/// Implementations hold per-run state (memory, velocity, L) and scratch, so one instance serves one run and is not
/// thread-safe.
/// </summary>
/// <example>
/// One iteration of the pipeline, after the minibatch's gradient has been aggregated:
/// <code>
/// var prior = priorOptions.Create(D, trainingSetSize, modelScale);        // once
/// var optimiser = optimiserOptions.Create(D * D * D, batchCount);          // once (SAGD by default)
/// ...
/// double fPrior = prior.ValueAndGradient(volume, priorGradient);          // -log p(V) / N_train
/// var report = optimiser.Step(new OptimiserContext
/// {
///     Iteration = tau, Batch = batchId, Volume = volume,
///     DataGradient = meanNllGradient, PriorGradient = priorGradient,
///     Objective = meanNll + fPrior,                                        // optional
///     ObjectiveAt = v => MinibatchMeanNll(v) + prior.Value(v),            // same IS samples; null: no line search
///     MaxFrequencyChanged = wStarChanged,
/// });
/// // volume now holds the new density, clamped at the lower bound; report.Lipschitz, report.StepScale for telemetry.
/// </code>
/// </example>
public interface IOptimiser
{
    /// <summary>Length of the parameter vector (D^3 for a real-space density).</summary>
    int Length { get; }

    /// <summary>Updates <see cref="OptimiserContext.Volume"/> in place.</summary>
    StepReport Step(in OptimiserContext context);

    /// <summary>Forgets accumulated gradient memory (SAG history, velocity, AdaGrad sums); keeps L.</summary>
    void ResetMemory();

    /// <summary>
    /// A factor on every step, 1 unless lowered: a run that diverges is rolled back to a good checkpoint and replayed
    /// with this multiplied by a fraction (smaller steps). Part of the optimiser's state in a checkpoint. Positive, finite.
    /// </summary>
    double StepMultiplier { get; set; }
}

/// <summary>The check every <see cref="IOptimiser.StepMultiplier"/> setter makes.</summary>
internal static class StepMultiplierCheck
{
    public static double Valid(double value) => value > 0 && double.IsFinite(value) ? value
        : throw new ArgumentOutOfRangeException(nameof(value), value, "the step multiplier must be positive and finite");
}
