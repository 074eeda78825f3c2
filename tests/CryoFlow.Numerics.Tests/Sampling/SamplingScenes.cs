using CryoFlow.Numerics.Quadrature;
using CryoFlow.Numerics.Sampling;

namespace CryoFlow.Numerics.Tests.Sampling;

/// <summary>Synthetic peaked posteriors over factor domains.</summary>
internal static class SamplingScenes
{
    /// <summary>Log-likelihood exp(-|x_j - c|^2 / (2 s^2)) over a domain's embedded points, as log values.</summary>
    public static double[] LogGaussianBump(FactorDomain d, double cx, double cy, double cz, double s)
    {
        var l = new double[d.Count];
        for (int j = 0; j < l.Length; j++)
        {
            double dx = d.X[j] - cx, dy = d.Y[j] - cy, dz = d.Z[j] - cz;
            l[j] = -(dx * dx + dy * dy + dz * dz) / (2 * s * s);
        }
        return l;
    }

    /// <summary>A random centre on the domain's manifold (sphere, circle or the shift disc).</summary>
    public static (double X, double Y, double Z) RandomCentre(FactorDomain d, Random rng)
    {
        switch (d.Kind)
        {
            case FactorKind.Direction:
            {
                double z = 2 * rng.NextDouble() - 1, phi = 2 * Math.PI * rng.NextDouble(), r = Math.Sqrt(1 - z * z);
                return (r * Math.Cos(phi), r * Math.Sin(phi), z);
            }
            case FactorKind.InPlane:
            {
                double psi = 2 * Math.PI * rng.NextDouble();
                return (Math.Cos(psi), Math.Sin(psi), 0);
            }
            default:
            {
                int j = rng.Next(d.Count);
                return (d.X[j] + 0.5 * (rng.NextDouble() - 0.5) * d.Sigma[j], d.Y[j] + 0.5 * (rng.NextDouble() - 0.5) * d.Sigma[j], 0);
            }
        }
    }

    public static double LogSumExp(ReadOnlySpan<double> v)
    {
        double m = double.NegativeInfinity;
        foreach (double x in v) m = Math.Max(m, x);
        double s = 0;
        foreach (double x in v) s += Math.Exp(x - m);
        return m + Math.Log(s);
    }

    /// <summary>State recorded from an exhaustive evaluation of log-posterior values (full grid, weights 1).</summary>
    public static FactorState ExhaustiveState(FactorDomain d, ReadOnlySpan<double> logQuadWeights, ReadOnlySpan<double> logLik, double temperature = 1)
    {
        int m = d.Count;
        var idx = Enumerable.Range(0, m).ToArray();
        var lp = new double[m];
        for (int j = 0; j < m; j++) lp[j] = logQuadWeights[j] + logLik[j];
        double z = LogSumExp(lp);
        var post = lp.Select(v => Math.Exp(v - z)).ToArray();
        return FactorState.Record(d.LevelId, 0, idx, new double[m], post, temperature);
    }

    public static FactorDomain SphereDomain(int m, int levelId = 0) =>
        FactorDomain.Sphere(SphereQuadrature.SaffKuijlaars(m), 3.6 / Math.Sqrt(m), levelId);

    /// <summary>log sum_j W_j exp(logw_j) p_j over a workspace's sample.</summary>
    public static double LogEstimate(SamplingWorkspace ws, ReadOnlySpan<double> logQuadWeights, ReadOnlySpan<double> logLik)
    {
        var terms = new double[ws.Count];
        for (int s = 0; s < ws.Count; s++)
        {
            int j = ws.Indices[s];
            terms[s] = logQuadWeights[j] + ws.LogWeights[s] + logLik[j];
        }
        return LogSumExp(terms);
    }
}
