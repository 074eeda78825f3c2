using BenchmarkDotNet.Attributes;
using CryoFlow.Numerics.Likelihood;

namespace CryoFlow.Benchmarks;

/// <summary>
/// The likelihood kernel at the operating point (D = 128, r* = 40: 2,507 half-plane points;
/// 64 directions x 16 in-plane angles x 25 shifts). Each operation is one particle; with
/// <see cref="Threads"/> = 2 the reported time per operation is wall time / particles across both
/// threads, so particles/s = 1 / mean. GEMM flops executed per particle
/// (<see cref="MarginalLikelihoodKernel.GemmFlops"/>): 261.9 MFLOP likelihood-only, 523.7 MFLOP with
/// the gradient (518.6 / 780.4 MFLOP counting the cross term as a full complex product). The
/// GEMM-alone benchmarks execute 256.7 (real-part cross term), 513.4 (full complex) and 256.7
/// (gradient) MFLOP per operation.
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
        _uRe = R(rows * KernelWorkspace.PanelStride(ComplexGemm.BlockK)); _uIm = R(rows * KernelWorkspace.PanelStride(ComplexGemm.BlockK));
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

    // The GEMMs alone, single-threaded, at the kernel's shapes, panel loop and U row stride.
    [Benchmark]
    public void CrossGemmRealPartAlone() => Cross(realPart: true);

    [Benchmark]
    public void CrossGemmFullComplexAlone() => Cross(realPart: false);

    private void Cross(bool realPart)
    {
        int nk = _problems[0].Points, rows = KernelBench.InPlaneAngles * KernelBench.Shifts, nd = KernelBench.Directions;
        var p = _problems[0];
        for (int kb = 0; kb < nk; kb += ComplexGemm.BlockK)
        {
            int kc = Math.Min(ComplexGemm.BlockK, nk - kb), ldu = KernelWorkspace.PanelStride(kc);
            if (realPart)
                ComplexGemm.MultiplyABtRealPart(_uRe.AsSpan(0, rows * ldu), _uIm.AsSpan(0, rows * ldu), ldu, p.SliceRe.AsSpan(kb), p.SliceIm.AsSpan(kb), nk,
                    _xRe, nd, rows, nd, kc, kb > 0, _scratch);
            else
                ComplexGemm.MultiplyABt(_uRe.AsSpan(0, rows * ldu), _uIm.AsSpan(0, rows * ldu), ldu, p.SliceRe.AsSpan(kb), p.SliceIm.AsSpan(kb), nk,
                    _xRe, _xIm, nd, rows, nd, kc, kb > 0, _scratch);
        }
    }

    [Benchmark]
    public void GradientGemmAlone()
    {
        int nk = _problems[0].Points, rows = KernelBench.InPlaneAngles * KernelBench.Shifts, nd = KernelBench.Directions;
        for (int kb = 0; kb < nk; kb += ComplexGemm.BlockK)
        {
            int kc = Math.Min(ComplexGemm.BlockK, nk - kb), ldu = KernelWorkspace.PanelStride(kc);
            ComplexGemm.MultiplyRealAtB(_gamma, nd, _uRe.AsSpan(0, rows * ldu), _uIm.AsSpan(0, rows * ldu), ldu, _gRe.AsSpan(kb), _gIm.AsSpan(kb), nk, nd, kc, rows, false);
        }
    }
}
