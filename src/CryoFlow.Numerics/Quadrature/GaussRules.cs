using MathNet.Numerics.LinearAlgebra;

namespace CryoFlow.Numerics.Quadrature;

/// <summary>One-dimensional Gauss rules by the Golub-Welsch eigenvalue method.</summary>
public static class GaussRules
{
    /// <summary>
    /// Gauss-Hermite nodes and weights for the weight function exp(-x^2): sum_i w_i f(x_i) = integral f(x) exp(-x^2) dx
    /// for polynomials f of degree &lt; 2n. Nodes ascending; weights sum to sqrt(pi).
    /// </summary>
    public static (double[] Nodes, double[] Weights) Hermite(int n) =>
        // Monic recurrence for exp(-x^2): a_k = 0, b_k = k/2.
        GolubWelsch(n, k => Math.Sqrt(k / 2.0), Math.Sqrt(Math.PI));

    /// <summary>Gauss-Legendre nodes and weights on [-1, 1]; weights sum to 2.</summary>
    public static (double[] Nodes, double[] Weights) Legendre(int n) =>
        GolubWelsch(n, k => k / Math.Sqrt(4.0 * k * k - 1), 2);

    private static (double[] Nodes, double[] Weights) GolubWelsch(int n, Func<int, double> offDiagonal, double mu0)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "rule needs at least one node");
        if (n == 1) return ([0.0], [mu0]);
        var j = Matrix<double>.Build.Dense(n, n);
        for (int k = 1; k < n; k++)
        {
            double b = offDiagonal(k);
            j[k - 1, k] = b;
            j[k, k - 1] = b;
        }
        var evd = j.Evd(Symmetricity.Symmetric);
        var nodes = new double[n];
        var weights = new double[n];
        var order = Enumerable.Range(0, n).OrderBy(i => evd.EigenValues[i].Real).ToArray();
        for (int i = 0; i < n; i++)
        {
            int e = order[i];
            double v0 = evd.EigenVectors[0, e];
            nodes[i] = evd.EigenValues[e].Real;
            weights[i] = mu0 * v0 * v0;
        }
        // symmetric rules: make the middle node exactly 0 and the set exactly symmetric
        for (int i = 0; i < n / 2; i++)
        {
            double x = 0.5 * (nodes[n - 1 - i] - nodes[i]);
            double w = 0.5 * (weights[n - 1 - i] + weights[i]);
            nodes[i] = -x; nodes[n - 1 - i] = x;
            weights[i] = w; weights[n - 1 - i] = w;
        }
        if ((n & 1) == 1) nodes[n / 2] = 0;
        return (nodes, weights);
    }
}
