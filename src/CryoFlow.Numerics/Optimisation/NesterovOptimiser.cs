using System.Numerics.Tensors;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// Nesterov's accelerated gradient in the form that needs only the gradient at the stored point (Sutskever et al.
/// 2013; the stored density is the look-ahead point): v = beta v - (eps/L) g; V = P(V + beta v - (eps/L) g).
/// </summary>
public sealed class NesterovOptimiser(int length, MomentumOptions options)
    : LipschitzStepOptimiser(length, OptimiserOptions.Validated(options).StepScale, options.LineSearch, options.Constraint)
{
    private readonly float[] _velocity = new float[length];
    private readonly Schedule _momentum = options.Momentum;

    /// <summary>The velocity v (for checkpoints).</summary>
    public Span<float> Velocity => _velocity;

    public override void ResetMemory() => Array.Clear(_velocity);

    private protected override void Move(in OptimiserContext context, ReadOnlySpan<float> gradient, double stepSize, Span<float> scratch)
    {
        Span<float> v = _velocity, x = context.Volume;
        float beta = MomentumCheck.Beta(_momentum, context.Iteration);
        TensorPrimitives.Multiply(v, beta, v);
        TensorPrimitives.MultiplyAdd(gradient, (float)-stepSize, v, v);
        TensorPrimitives.MultiplyAdd(v, beta, x, x);
        TensorPrimitives.MultiplyAdd(gradient, (float)-stepSize, x, x);
    }
}
