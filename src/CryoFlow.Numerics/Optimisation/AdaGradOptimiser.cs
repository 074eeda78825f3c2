using System.Numerics.Tensors;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// AdaGrad: per-voxel step sizes from the accumulated squared gradients, G += g^2, V -= eta g / (sqrt(G) + delta),
/// then the projection. The learning rate eta is in density units (the normalised step is about eta per voxel), so
/// it needs no Lipschitz estimate and no line search.
/// </summary>
public sealed class AdaGradOptimiser : IOptimiser
{
    private readonly float[] _squares;
    private readonly float[] _gradient;
    private readonly float[] _scratch;
    private readonly Schedule _learningRate;
    private readonly float _delta;

    public AdaGradOptimiser(int length, AdaGradOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        OptimiserOptions.Validated(options);
        _learningRate = options.LearningRate;
        _delta = (float)options.Delta;
        Constraint = options.Constraint;
        Constraint.CheckLength(length);
        _squares = new float[length];
        _gradient = new float[length];
        _scratch = new float[length];
    }

    public int Length => _squares.Length;

    /// <summary>The projection applied after every step (support, then positivity).</summary>
    public DensityConstraint Constraint { get; }

    public double? LowerBound => Constraint.LowerBound;

    /// <summary>The step is eta * this.</summary>
    public double StepMultiplier
    {
        get => _stepMultiplier;
        set => _stepMultiplier = StepMultiplierCheck.Valid(value);
    }

    private double _stepMultiplier = 1;

    /// <summary>G, the accumulated squared gradients (for checkpoints).</summary>
    public Span<float> SquaredGradientSum => _squares;

    public void ResetMemory() => Array.Clear(_squares);

    public StepReport Step(in OptimiserContext context)
    {
        OptimiserChecks.Validate(context, Length);
        Span<float> g = _gradient, s = _scratch, x = context.Volume;
        if (context.PriorGradient.IsEmpty) context.DataGradient.CopyTo(g);
        else TensorPrimitives.Add(context.DataGradient, context.PriorGradient, g);
        double eta = _learningRate.At(context.Iteration) * _stepMultiplier;
        TensorPrimitives.MultiplyAdd(g, g, _squares, _squares);
        TensorPrimitives.Sqrt(_squares, s);
        TensorPrimitives.Add(s, _delta, s);
        TensorPrimitives.Divide(g, s, s);
        TensorPrimitives.MultiplyAdd(s, (float)-eta, x, x);
        Constraint.Project(x);
        return new StepReport(context.Iteration, double.NaN, eta, eta, false, 0);
    }
}
