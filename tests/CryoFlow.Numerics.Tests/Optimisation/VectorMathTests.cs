using System.Numerics;
using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class VectorMathTests
{
    public static TheoryData<int> Lengths()
    {
        int w = Vector<float>.Count;
        return [0, 1, w - 1, w, w + 1, 2 * w + 3, 100_003];
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ReductionsEqualScalarDoubleSums(int n)
    {
        var rng = new Random(n);
        var a = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var b = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        double dot = 0, sum = 0, squares = 0;
        for (int i = 0; i < n; i++)
        {
            dot += (double)a[i] * b[i];
            sum += a[i];
            squares += (double)a[i] * a[i];
        }
        // Only the order of the double additions differs.
        Assert.Equal(dot, VectorMath.Dot(a, b), 1e-12 * (1 + Math.Abs(dot)));
        Assert.Equal(sum, VectorMath.Sum(a), 1e-12 * (1 + Math.Abs(sum)));
        Assert.Equal(squares, VectorMath.SumOfSquares(a), 1e-12 * (1 + squares));
    }

    [Fact]
    public void DisplacementIsTheStepProjectedOnTheGradientAndItsSquaredLength()
    {
        var (along, squared) = VectorMath.Displacement([1, 2, 3], [2, 2, 1], [1, 5, -1]);
        Assert.Equal(1 * 1 + 0 * 5 + (-2) * -1, along);
        Assert.Equal(1 + 0 + 4, squared);
    }
}
