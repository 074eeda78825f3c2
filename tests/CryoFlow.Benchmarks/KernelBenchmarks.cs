using BenchmarkDotNet.Attributes;
using CryoFlow.Numerics.Likelihood;

namespace CryoFlow.Benchmarks;

/// <summary>
/// The likelihood kernel at the operating point (D = 128, r* = 40: 2,507 half-plane points;
/// 64 directions x 16 in-plane angles x 25 shifts). Each operation is one particle; with
/// <see cref="Threads"/> = 2 the reported time per operation is wall time / particles across both
/// threads, so particles/s = 1 / mean. GEMM flops per particle:
/// <see cref="MarginalLikelihoodKernel.GemmFlops"/> (518.6 MFLOP likelihood-only, 780.4 MFLOP with
/// the gradient); the two GEMM-alone benchmarks do 513.4 and 256.7 MFLOP per operation.
/// Run: dotnet run -c Release --project tests/CryoFlow.Benchmarks -- --filter '*KernelBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private const int ParticlesPerThread = 4;
    private BenchProblem[] _problems = [];
    private KernelWorkspace[] _workspaces = [];
    private float[] _uRe = [], _uIm = [], _xRe = [], _xIm = [], _gamma = [], _gRe = [], _gIm = [], _scratch = [];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _problems = Enumerable.Range(0, Threads)
            .Select(i => BenchProblem.Create(KernelBench.BoxSize, KernelBench.Radius, KernelBench.Directions, KernelBench.InPlaneAngles, KernelBench.Shifts, 1000 + i))
            .ToArray();
        _workspaces = _problems.Select(p => new KernelWorkspace(p.Capacity)).ToArray();
        int nk = _problems[0].Points, rows = KernelBench.InPlaneAngles * KernelBench.Shifts, nd = KernelBench.Directions;
        var rng = new Random(1);
        float[] R(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() - 0.5); return a; }
        _uRe = R(rows * ComplexGemm.BlockK); _uIm = R(rows * ComplexGemm.BlockK);
        _xRe = new float[rows * nd]; _xIm = new float[rows * nd];
        _gamma = R(rows * nd);
        _gRe = new float[nd * nk]; _gIm = new float[nd * nk];
        _scratch = new float[ComplexGemm.ScratchLength(nd, nk)];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var w in _workspaces) w.Dispose();
    }

    private void OnThreads(Action<int> body)
    {
        if (Threads == 1) { body(0); return; }
        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() => body(t))).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
    }

    [Benchmark(OperationsPerInvoke = ParticlesPerThread)]
    public void LikelihoodAndGradient() =>
        OnThreads(t => { for (int i = 0; i < ParticlesPerThread; i++) _problems[t].Evaluate(_workspaces[t], gradient: true); });

    [Benchmark(OperationsPerInvoke = ParticlesPerThread)]
    public void LikelihoodOnly() =>
        OnThreads(t => { for (int i = 0; i < ParticlesPerThread; i++) _problems[t].Evaluate(_workspaces[t], gradient: false); });

    // The GEMMs alone, single-threaded, at the kernel's shapes and panel loop.
    [Benchmark]
    public void CrossGemmAlone()
    {
        int nk = _problems[0].Points, rows = KernelBench.InPlaneAngles * KernelBench.Shifts, nd = KernelBench.Directions;
        var p = _problems[0];
        for (int kb = 0; kb < nk; kb += ComplexGemm.BlockK)
        {
            int kc = Math.Min(ComplexGemm.BlockK, nk - kb);
            ComplexGemm.MultiplyABt(_uRe.AsSpan(0, rows * kc), _uIm.AsSpan(0, rows * kc), kc, p.SliceRe.AsSpan(kb), p.SliceIm.AsSpan(kb), nk,
                _xRe, _xIm, nd, rows, nd, kc, kb > 0, _scratch);
        }
    }

    [Benchmark]
    public void GradientGemmAlone()
    {
        int nk = _problems[0].Points, rows = KernelBench.InPlaneAngles * KernelBench.Shifts, nd = KernelBench.Directions;
        for (int kb = 0; kb < nk; kb += ComplexGemm.BlockK)
        {
            int kc = Math.Min(ComplexGemm.BlockK, nk - kb);
            ComplexGemm.MultiplyRealAtB(_gamma, nd, _uRe.AsSpan(0, rows * kc), _uIm.AsSpan(0, rows * kc), kc, _gRe.AsSpan(kb), _gIm.AsSpan(kb), nk, nd, kc, rows, false);
        }
    }
}
