using System.Numerics.Tensors;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// Heavy-ball (Polyak) momentum: v = beta v - (eps/L) g; V = P(V + v); then v is set to the displacement actually
/// taken, V_new - V_old, so that velocity does not build up against the positivity bound.
/// </summary>
public sealed class MomentumOptimiser(int length, MomentumOptions options)
    : LipschitzStepOptimiser(length, OptimiserOptions.Validated(options).StepScale, options.LineSearch, options.Constraint)
{
    private readonly float[] _velocity = new float[length];
    private readonly Schedule _momentum = options.Momentum;

    /// <summary>The velocity v (for checkpoints).</summary>
    public Span<float> Velocity => _velocity;

    public override void ResetMemory() => Array.Clear(_velocity);

    private protected override bool ProjectsInMove => true;

    private protected override void Move(in OptimiserContext context, ReadOnlySpan<float> gradient, double stepSize, Span<float> scratch)
    {
        Span<float> v = _velocity, x = context.Volume;
        float beta = MomentumCheck.Beta(_momentum, context.Iteration);
        TensorPrimitives.Multiply(v, beta, v);
        TensorPrimitives.MultiplyAdd(gradient, (float)-stepSize, v, v);
        x.CopyTo(scratch);
        TensorPrimitives.Add(x, v, x);
        Constraint.Project(x);
        TensorPrimitives.Subtract(x, scratch, v);
    }
}

internal static class MomentumCheck
{
    public static float Beta(Schedule momentum, int iteration)
    {
        double beta = momentum.At(iteration);
        if (!(beta >= 0 && beta < 1)) throw new InvalidOperationException($"momentum beta({iteration}) = {beta}; it must be in [0, 1)");
        return (float)beta;
    }
}
