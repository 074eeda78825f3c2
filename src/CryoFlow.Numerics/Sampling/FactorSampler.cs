namespace CryoFlow.Numerics.Sampling;

/// <summary>
/// Importance sampler of one factor on one target level (DESIGN 4.2, REFERENCE 4.5). Per particle it builds
/// q = (1 - a) q_particle + a [(1 - g) / M + g q_global] with q_particle_j = sum_i v_i K(i, j) / sum_i v_i S_i the
/// kernel-smoothed state, draws N = min(ceil(s0 ESS(q)), M) points with replacement straight from the mixture, and
/// returns each distinct point once with importance log-weight log(count_j / (N q_j)), so that
/// sum_j W_j exp(logw_j) p_j is unbiased for the quadrature sum sum_j W_j p_j.
/// q_particle is only materialised on its support and ESS uses sum_j G_j^2 precomputed in the snapshot, so a particle
/// costs O(state x neighbours + N log M), independent of M. Thread-safe (kernel tables are cached under a lock);
/// the per-particle scratch is the caller's <see cref="SamplingWorkspace"/>.
/// </summary>
public sealed class FactorSampler
{
    private readonly Dictionary<(FactorDomain Source, bool Flip), KernelTable> _tables = [];
    private readonly object _gate = new();

    /// <param name="domain">the level samples are drawn on</param>
    /// <param name="epsilon">kernel truncation (relative to the peak)</param>
    public FactorSampler(FactorDomain domain, double epsilon = KernelTable.DefaultEpsilon)
    {
        ArgumentNullException.ThrowIfNull(domain);
        Domain = domain;
        Epsilon = epsilon;
    }

    public FactorDomain Domain { get; }

    public double Epsilon { get; }

    /// <summary>The kernel from a (possibly older, coarser) level onto <see cref="Domain"/>, built once and cached.</summary>
    public KernelTable KernelFrom(FactorDomain source, bool flip)
    {
        ArgumentNullException.ThrowIfNull(source);
        flip &= source.SupportsFlip;
        lock (_gate)
        {
            if (!_tables.TryGetValue((source, flip), out var table))
            {
                table = KernelTable.Build(source, Domain, flip, Epsilon);
                _tables.Add((source, flip), table);
            }
            return table;
        }
    }

    /// <summary>
    /// Choose the points of one particle's visit into <paramref name="workspace"/>.
    /// </summary>
    /// <param name="state">the particle's last recorded state, or null on a first visit (full grid)</param>
    /// <param name="stateDomain">the domain of <paramref name="state"/>'s level (ignored when state is null)</param>
    /// <param name="parameters">mixture shares, s0, flip</param>
    /// <param name="global">the global distribution on <see cref="Domain"/>; null means g = 0</param>
    /// <param name="random">the caller's generator, seeded per (run, iteration, particle)</param>
    public void Sample(FactorState? state, FactorDomain? stateDomain, in ProposalParameters parameters, GlobalSnapshot? global,
        Random random, SamplingWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(workspace);
        parameters.Validate();
        int m = Domain.Count;
        if (global is not null && global.Count != m) throw new ArgumentException($"global has {global.Count} points, domain {m}", nameof(global));
        workspace.Ensure(m, state?.Count ?? 0);
        if (state is null)
        {
            FullGrid(workspace, m, m);
            return;
        }
        ArgumentNullException.ThrowIfNull(stateDomain);
        if (stateDomain.LevelId != state.LevelId) throw new ArgumentException($"state is on level {state.LevelId}, domain is {stateDomain.LevelId}", nameof(stateDomain));

        double a = parameters.UniformShare, g = global is null ? 0 : parameters.GlobalShare;
        var smoothed = workspace.Smoothed;
        var stamp = workspace.Stamp;
        var support = workspace.Support;
        int generation = workspace.NextGeneration(), supportCount = 0;
        KernelTable? table = null;
        if (a < 1)
        {
            table = KernelFrom(stateDomain, parameters.ChiralityFlip);
            var cum = workspace.StateCumulative;
            double z = 0;
            for (int k = 0; k < state.Count; k++)
            {
                int i = state.Indices[k];
                if ((uint)i >= (uint)stateDomain.Count) throw new ArgumentException($"state index {i} is outside its level ({stateDomain.Count} points)", nameof(state));
                z += state.Values[k] * table.RowSum(i);
                cum[k] = z;
            }
            if (z > 0)
            {
                for (int k = 0; k < state.Count; k++)
                {
                    int i = state.Indices[k];
                    double c = state.Values[k] / z;
                    cum[k] /= z;
                    var nb = table.Neighbours(i);
                    var kv = table.Values(i);
                    for (int e = 0; e < nb.Length; e++)
                    {
                        int j = nb[e];
                        if (stamp[j] != generation)
                        {
                            stamp[j] = generation;
                            smoothed[j] = 0;
                            support[supportCount++] = j;
                        }
                        smoothed[j] += c * kv[e];
                    }
                    workspace.KernelEvaluations += nb.Length;
                }
                cum[state.Count - 1] = 1;
            }
            else
            {
                a = 1; // no stored point reaches this level: nothing particle-specific to propose
                table = null;
            }
        }

        // sum q^2 of the mixture from the sparse support plus precomputed global terms
        double uniform = (1 - g) / m, sumGG = global?.SumOfSquares ?? 0;
        double sumPP = 0, sumPG = 0;
        var gp = global is null ? default : global.Probabilities;
        for (int s = 0; s < supportCount; s++)
        {
            int j = support[s];
            sumPP += smoothed[j] * smoothed[j];
            if (g > 0) sumPG += smoothed[j] * gp[j];
        }
        double sumUU = (1 - g) * (1 - g) / m + 2 * g * (1 - g) / m + g * g * sumGG;
        double sumPU = (1 - g) / m + g * sumPG;
        double sumQQ = (1 - a) * (1 - a) * sumPP + 2 * a * (1 - a) * sumPU + a * a * sumUU;
        double ess = 1 / sumQQ;
        if (ess >= parameters.FullGridFraction * m)
        {
            FullGrid(workspace, m, ess);
            return;
        }

        int n = (int)Math.Min(m, Math.Ceiling(parameters.EssScale * ess));
        var counts = workspace.Counts;
        var distinct = workspace.IndexBuffer;
        int nd = 0;
        var stateCum = workspace.StateCumulative[..state.Count];
        for (int t = 0; t < n; t++)
        {
            int j;
            double u = random.NextDouble();
            if (u < 1 - a)
            {
                int k = GlobalSnapshot.SearchCumulative(stateCum, random.NextDouble());
                int i = state.Indices[k];
                j = table!.Neighbours(i)[GlobalSnapshot.SearchCumulative(table.Cumulative(i), random.NextDouble())];
            }
            else if (g > 0 && random.NextDouble() < g) j = global!.Draw(random.NextDouble());
            else j = random.Next(m);
            if (counts[j]++ == 0) distinct[nd++] = j;
        }

        distinct[..nd].Sort();
        var logw = workspace.LogWeightBuffer;
        double logN = Math.Log(n);
        for (int s = 0; s < nd; s++)
        {
            int j = distinct[s];
            double qp = stamp[j] == generation ? smoothed[j] : 0;
            double q = (1 - a) * qp + a * (uniform + (g > 0 ? g * gp[j] : 0));
            logw[s] = Math.Log(counts[j]) - logN - Math.Log(q);
            counts[j] = 0;
        }
        workspace.SetResult(nd, false, ess, n);
    }

    private static void FullGrid(SamplingWorkspace workspace, int m, double ess)
    {
        var idx = workspace.IndexBuffer;
        var lw = workspace.LogWeightBuffer;
        for (int j = 0; j < m; j++)
        {
            idx[j] = j;
            lw[j] = 0;
        }
        workspace.SetResult(m, true, ess, 0);
    }
}
