using BenchmarkDotNet.Attributes;
using CryoFlow.Numerics.Likelihood;

namespace CryoFlow.Benchmarks;

/// <summary>
/// The likelihood kernel at the operating point (D = 128, r* = 40: 2,507 half-plane points;
/// 64 directions x 16 in-plane angles x 25 shifts). Each operation is one particle and an
/// invocation runs 8 particles split over <see cref="Threads"/> threads (one workspace each), so
/// the mean is wall time per particle and particles/s = 1 / mean. GEMM flops executed per particle
/// (<see cref="MarginalLikelihoodKernel.GemmFlops"/>): 261.9 MFLOP likelihood-only, 523.7 MFLOP with
/// the gradient (518.6 / 780.4 MFLOP counting the cross term as a full complex product).
/// Run: dotnet run -c Release --project tests/CryoFlow.Benchmarks -- --filter '*Kernel*'
/// </summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private const int ParticlesPerInvoke = 8;
    private BenchProblem[] _problems = [];
    private KernelWorkspace[] _workspaces = [];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _problems = Enumerable.Range(0, Threads)
            .Select(i => BenchProblem.Create(KernelBench.BoxSize, KernelBench.Radius, KernelBench.Directions, KernelBench.InPlaneAngles, KernelBench.Shifts, 1000 + i))
            .ToArray();
        _workspaces = _problems.Select(p => new KernelWorkspace(p.Capacity)).ToArray();
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

    [Benchmark(OperationsPerInvoke = ParticlesPerInvoke)]
    public void LikelihoodAndGradient() =>
        OnThreads(t => { for (int i = 0; i < ParticlesPerInvoke / Threads; i++) _problems[t].Evaluate(_workspaces[t], gradient: true); });

    [Benchmark(OperationsPerInvoke = ParticlesPerInvoke)]
    public void LikelihoodOnly() =>
        OnThreads(t => { for (int i = 0; i < ParticlesPerInvoke / Threads; i++) _problems[t].Evaluate(_workspaces[t], gradient: false); });
}

/// <summary>
/// The kernel's big GEMMs alone, one thread, at its shapes, panel loop and U row stride: the
/// real-part cross term and the full complex product (400 x 64 over 2,507; 256.7 and 513.4 MFLOP
/// per operation) and the gradient's real x complex product (64 x 2,507 over 400; 256.7 MFLOP).
/// </summary>
[MemoryDiagnoser]
public class KernelGemmBenchmarks
{
    private const int Rows = KernelBench.InPlaneAngles * KernelBench.Shifts, Nd = KernelBench.Directions;
    private BenchProblem _problem = null!;
    private float[] _uRe = [], _uIm = [], _xRe = [], _xIm = [], _gamma = [], _gRe = [], _gIm = [], _scratch = [];

    [GlobalSetup]
    public void Setup()
    {
        _problem = BenchProblem.Create(KernelBench.BoxSize, KernelBench.Radius, Nd, KernelBench.InPlaneAngles, KernelBench.Shifts, 1000);
        int nk = _problem.Points, ldu = KernelWorkspace.PanelStride(ComplexGemm.BlockK);
        var rng = new Random(1);
        float[] R(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() - 0.5); return a; }
        _uRe = R(Rows * ldu); _uIm = R(Rows * ldu);
        _xRe = new float[Rows * Nd]; _xIm = new float[Rows * Nd];
        _gamma = R(Rows * Nd);
        _gRe = new float[Nd * nk]; _gIm = new float[Nd * nk];
        _scratch = new float[ComplexGemm.ScratchLength(Nd, nk)];
    }

    [Benchmark]
    public void CrossGemmRealPart() => Cross(realPart: true);

    [Benchmark]
    public void CrossGemmFullComplex() => Cross(realPart: false);

    private void Cross(bool realPart)
    {
        int nk = _problem.Points;
        for (int kb = 0; kb < nk; kb += ComplexGemm.BlockK)
        {
            int kc = Math.Min(ComplexGemm.BlockK, nk - kb), ldu = KernelWorkspace.PanelStride(kc);
            if (realPart)
                ComplexGemm.MultiplyABtRealPart(_uRe.AsSpan(0, Rows * ldu), _uIm.AsSpan(0, Rows * ldu), ldu,
                    _problem.SliceRe.AsSpan(kb), _problem.SliceIm.AsSpan(kb), nk, _xRe, Nd, Rows, Nd, kc, kb > 0, _scratch);
            else
                ComplexGemm.MultiplyABt(_uRe.AsSpan(0, Rows * ldu), _uIm.AsSpan(0, Rows * ldu), ldu,
                    _problem.SliceRe.AsSpan(kb), _problem.SliceIm.AsSpan(kb), nk, _xRe, _xIm, Nd, Rows, Nd, kc, kb > 0, _scratch);
        }
    }

    [Benchmark]
    public void GradientGemm()
    {
        int nk = _problem.Points;
        for (int kb = 0; kb < nk; kb += ComplexGemm.BlockK)
        {
            int kc = Math.Min(ComplexGemm.BlockK, nk - kb), ldu = KernelWorkspace.PanelStride(kc);
            ComplexGemm.MultiplyRealAtB(_gamma, Nd, _uRe.AsSpan(0, Rows * ldu), _uIm.AsSpan(0, Rows * ldu), ldu,
                _gRe.AsSpan(kb), _gIm.AsSpan(kb), nk, Nd, kc, Rows, false);
        }
    }
}
