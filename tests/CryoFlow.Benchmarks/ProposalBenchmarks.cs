using BenchmarkDotNet.Attributes;
using CryoFlow.Numerics.Quadrature;
using CryoFlow.Numerics.Sampling;

namespace CryoFlow.Benchmarks;

/// <summary>One grid size and state size.</summary>
public sealed record ProposalCase(int Directions, int StatePoints)
{
    public override string ToString() => $"M={Directions} S={StatePoints}";
}

/// <summary>
/// Building one particle's direction proposal and drawing its samples (<see cref="FactorSampler.Sample"/>, DESIGN 4.2):
/// Saff-Kuijlaars grids of M directions with the kernel resolution 3.6 / sqrt(M) of <see cref="QuadratureLevel"/>; a
/// state of S directions clustered around one point (the S nearest grid points, posterior falling off with angle),
/// as late in a run; a = 0.05, g = 0.9 with a non-uniform global distribution, s0 = 10. The sparse sampler should cost
/// O(S x neighbours + N log M) with N = s0 ESS, i.e. follow S, not M. <see cref="DenseProposal"/> is the reference
/// code's proposal, the kernel density over every grid point from every stored point (REFERENCE 4.7): O(M x S).
/// The kernel table is built once per level and measured apart (<see cref="BuildKernelTable"/>).
/// Run: dotnet run -c Release --project tests/CryoFlow.Benchmarks -- --filter '*Proposal*' --job short
/// </summary>
[MemoryDiagnoser]
public class ProposalBenchmarks
{
    private FactorDomain _domain = null!;
    private FactorSampler _sampler = null!;
    private FactorState _state = null!;
    private GlobalSnapshot _global = null!;
    private readonly SamplingWorkspace _workspace = new();
    private readonly Random _random = new(7);
    private double[] _dense = [];
    private static readonly ProposalParameters Late = new(UniformShare: 0.05, GlobalShare: 0.9, EssScale: 10);

    public static IEnumerable<ProposalCase> Cases =>
    [
        new(1_000, 30), new(10_000, 30), new(100_000, 30),
        new(100_000, 300), new(100_000, 3_000),
    ];

    [ParamsSource(nameof(Cases))]
    public ProposalCase Case { get; set; } = new(1_000, 30);

    [GlobalSetup]
    public void Setup()
    {
        int m = Case.Directions, s = Case.StatePoints;
        var directions = SphereQuadrature.SaffKuijlaars(m);
        double resolution = 3.6 / Math.Sqrt(m);
        _domain = FactorDomain.Sphere(directions, resolution, 0);
        _sampler = new FactorSampler(_domain);
        _sampler.KernelFrom(_domain, flip: false);

        // the S grid points nearest a centre, posterior exp(-angle^2 / (2 w^2)) with w a few grid spacings
        var centre = directions[m / 3];
        var byAngle = Enumerable.Range(0, m)
            .Select(j => (j, Angle: Math.Acos(Math.Clamp(directions[j].X * centre.X + directions[j].Y * centre.Y + directions[j].Z * centre.Z, -1, 1))))
            .OrderBy(t => t.Angle).Take(s).ToArray();
        double w = resolution * Math.Sqrt(s) / 2;
        var values = byAngle.Select(t => Math.Exp(-t.Angle * t.Angle / (2 * w * w))).ToArray();
        double z = values.Sum();
        _state = new FactorState(0, 0, byAngle.Select(t => t.j).ToArray(), values.Select(v => v / z).ToArray());

        // a smooth, non-uniform dataset-average: preferred views around the poles
        var g = new double[m];
        for (int j = 0; j < m; j++) g[j] = 1 + 4 * directions[j].Z * directions[j].Z;
        _global = new GlobalSnapshot(g);
        _dense = new double[m];
        Sample(); // sizes the workspace
        Console.WriteLine($"// {Case}: kernel {_sampler.KernelFrom(_domain, false).MeanNeighbours:F1} neighbours per point; ESS {_workspace.EffectiveSampleSize:F0}, {_workspace.Draws} draws, {_workspace.Count} distinct");
    }

    /// <summary>One particle: the sparse proposal, its ESS, N draws, distinct points and their weights.</summary>
    [Benchmark(Baseline = true)]
    public int Sample()
    {
        _sampler.Sample(_state, _domain, Late, _global, _random, _workspace);
        return _workspace.Count;
    }

    /// <summary>The reference code's proposal density over all M points from the S stored points (no sampling).</summary>
    [Benchmark]
    public double DenseProposal()
    {
        var x = _domain.X;
        var y = _domain.Y;
        var zc = _domain.Z;
        double kappa = 1 / (_domain.Sigma[0] * _domain.Sigma[0]);
        double total = 0;
        for (int j = 0; j < x.Length; j++)
        {
            double q = 0;
            for (int k = 0; k < _state.Count; k++)
            {
                int i = _state.Indices[k];
                q += _state.Values[k] * Math.Exp(kappa * (x[i] * x[j] + y[i] * y[j] + zc[i] * zc[j] - 1));
            }
            _dense[j] = q;
            total += q;
        }
        return total;
    }

    /// <summary>Once per level: the truncated kernel from the level onto itself (neighbour lists and values).</summary>
    [Benchmark]
    public int BuildKernelTable() => KernelTable.Build(_domain, _domain, flip: false).EntryCount;
}
