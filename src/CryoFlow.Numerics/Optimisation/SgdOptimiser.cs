using System.Numerics.Tensors;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>Plain stochastic gradient descent: V -= (eps/L) (g_k + prior gradient), then the projection.</summary>
public sealed class SgdOptimiser(int length, SgdOptions options)
    : LipschitzStepOptimiser(length, OptimiserOptions.Validated(options).StepScale, options.LineSearch, options.Constraint)
{
    public override void ResetMemory()
    {
    }

    private protected override void Move(in OptimiserContext context, ReadOnlySpan<float> gradient, double stepSize, Span<float> scratch) =>
        TensorPrimitives.MultiplyAdd(gradient, (float)-stepSize, context.Volume, context.Volume);
}
