using System.Numerics.Tensors;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// The common frame of the optimisers whose step size is eps/L: checks the context, forms the full minibatch
/// gradient g_k + prior gradient, brings L up to date (<see cref="LipschitzEstimate"/>, searched on that full
/// gradient), lets the subclass move the density, then applies the constraint's projection (support, positivity).
/// </summary>
public abstract class LipschitzStepOptimiser : IOptimiser
{
    private readonly float[] _gradient;
    private readonly float[] _scratch;

    private protected LipschitzStepOptimiser(int length, Schedule stepScale, LineSearchOptions lineSearch, DensityConstraint constraint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        StepScale = stepScale ?? throw new ArgumentNullException(nameof(stepScale));
        Lipschitz = new LipschitzEstimate(lineSearch);
        constraint.CheckLength(length);
        Constraint = constraint;
        _gradient = new float[length];
        _scratch = new float[length];
    }

    public int Length => _gradient.Length;

    /// <summary>L and its search state (read for telemetry, set when resuming).</summary>
    public LipschitzEstimate Lipschitz { get; }

    /// <summary>eps(tau).</summary>
    public Schedule StepScale { get; }

    /// <summary>The projection applied after every step (support, then positivity).</summary>
    public DensityConstraint Constraint { get; }

    /// <summary>Positivity bound applied after every step; null for none.</summary>
    public double? LowerBound => Constraint.LowerBound;

    /// <summary>The step is eps * this / L.</summary>
    public double StepMultiplier
    {
        get => _stepMultiplier;
        set => _stepMultiplier = StepMultiplierCheck.Valid(value);
    }

    private double _stepMultiplier = 1;

    public StepReport Step(in OptimiserContext context)
    {
        OptimiserChecks.Validate(context, Length);
        CheckBatch(context.Batch);
        Span<float> full = _gradient;
        if (context.PriorGradient.IsEmpty) context.DataGradient.CopyTo(full);
        else TensorPrimitives.Add(context.DataGradient, context.PriorGradient, full);

        var (searched, search) = Lipschitz.Update(context.Iteration, context.MaxFrequencyChanged, context.Volume, context.Objective,
            full, context.ObjectiveAt, _scratch, Constraint);
        double eps = StepScale.At(context.Iteration);
        double stepSize = eps * _stepMultiplier / Lipschitz.Value;
        Move(context, full, stepSize, _scratch);
        if (!ProjectsInMove) Constraint.Project(context.Volume);
        return new StepReport(context.Iteration, Lipschitz.Value, eps, stepSize, searched, search.Evaluations);
    }

    /// <summary>Moves <see cref="OptimiserContext.Volume"/>; the projection follows.</summary>
    /// <param name="gradient">g_k + prior gradient at the current volume</param>
    /// <param name="stepSize">eps * <see cref="StepMultiplier"/> / L</param>
    /// <param name="scratch">free scratch of <see cref="Length"/> floats</param>
    private protected abstract void Move(in OptimiserContext context, ReadOnlySpan<float> gradient, double stepSize, Span<float> scratch);

    /// <summary>
    /// Whether <see cref="Move"/> applies <see cref="Constraint"/> itself (and needs the projected point); the step then
    /// does not project again, since a soft support mask applied twice would be applied squared.
    /// </summary>
    private protected virtual bool ProjectsInMove => false;

    public abstract void ResetMemory();

    /// <summary>Refuses a batch id the optimiser cannot hold, before anything changes.</summary>
    private protected virtual void CheckBatch(int batch)
    {
    }
}

internal static class OptimiserChecks
{
    public static void Validate(in OptimiserContext c, int length)
    {
        if (c.Iteration < 0) throw new ArgumentOutOfRangeException(nameof(c), c.Iteration, "iteration must be >= 0");
        if (c.Volume.Length != length) throw new ArgumentException($"volume has {c.Volume.Length} elements, the optimiser {length}", nameof(c));
        if (c.DataGradient.Length != length) throw new ArgumentException($"data gradient has {c.DataGradient.Length} elements, the optimiser {length}", nameof(c));
        if (!c.PriorGradient.IsEmpty && c.PriorGradient.Length != length)
            throw new ArgumentException($"prior gradient has {c.PriorGradient.Length} elements, the optimiser {length}", nameof(c));
    }
}
