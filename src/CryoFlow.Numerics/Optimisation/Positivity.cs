using System.Numerics.Tensors;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>The projection every optimiser applies after its step: V = max(V, lower bound) (REFERENCE 5.4).</summary>
public static class Positivity
{
    /// <summary>Clamps every element at <paramref name="lowerBound"/>; null leaves the vector unconstrained.</summary>
    public static void Project(Span<float> volume, double? lowerBound)
    {
        if (lowerBound is double lo) TensorPrimitives.Max(volume, (float)lo, volume);
    }
}
