using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CryoFlow.Numerics.Likelihood;

/// <summary>Throughput of the likelihood kernel measured by <see cref="KernelBench.Run"/> (best of the repetitions).</summary>
/// <param name="Threads">worker threads, one workspace each</param>
/// <param name="Particles">particles evaluated per timed pass (split over the threads)</param>
/// <param name="Points">N_k</param>
/// <param name="Directions">N_d</param>
/// <param name="InPlaneAngles">N_p</param>
/// <param name="Shifts">N_t</param>
/// <param name="GradientParticlesPerSecond">likelihood + posterior + gradient path, all threads</param>
/// <param name="GradientGflops">flops its GEMMs execute (<see cref="MarginalLikelihoodKernel.GemmFlops"/>) per second of kernel wall time</param>
/// <param name="GradientEquivalentGflops">the same time with the cross term counted as a full complex product, 8 flops per complex multiply-add (<see cref="MarginalLikelihoodKernel.ComplexEquivalentFlops"/>)</param>
/// <param name="LikelihoodParticlesPerSecond">likelihood-only path (line searches, test set)</param>
/// <param name="LikelihoodGflops">flops its GEMMs execute per second</param>
/// <param name="LikelihoodEquivalentGflops">the same with the full-complex count</param>
/// <param name="CrossGemmGflops">the real-part cross GEMM the kernel runs, alone (N_p N_t x N_d over N_k, 4 flops per complex multiply-add)</param>
/// <param name="ComplexGemmGflops">the full complex GEMM at the same shape, alone (8 flops per complex multiply-add)</param>
/// <param name="GradientGemmGflops">the real x complex gradient GEMM alone (N_d x N_k over N_p N_t, 4 flops per multiply-add)</param>
/// <param name="GradientCpuParticlesPerSecond">
/// gradient path particles per second of CPU time per thread (process CPU time / threads): what the
/// threads achieve while they run, unaffected by other processes taking turns on the cores
/// </param>
/// <param name="LikelihoodCpuParticlesPerSecond">the same for the likelihood-only path</param>
/// <param name="CpuShare">process CPU time / (wall time x threads) over the kernel passes; below 1 means the cores were shared</param>
/// <param name="FmaPeakGflops">
/// measured FP32 peak of the same threads: 12 independent Vector256 FMA chains per thread, 16 flops
/// per FMA (0 where FMA is unavailable). The ceiling the GEMM figures should be compared with.
/// </param>
/// <param name="Simd">whether the Vector256/FMA paths ran</param>
public sealed record KernelBenchResult(
    int Threads, int Particles, int Points, int Directions, int InPlaneAngles, int Shifts,
    double GradientParticlesPerSecond, double GradientGflops, double GradientEquivalentGflops,
    double LikelihoodParticlesPerSecond, double LikelihoodGflops, double LikelihoodEquivalentGflops,
    double CrossGemmGflops, double ComplexGemmGflops, double GradientGemmGflops,
    double GradientCpuParticlesPerSecond, double LikelihoodCpuParticlesPerSecond, double CpuShare, double FmaPeakGflops, bool Simd)
{
    public override string ToString() =>
        $"threads {Threads}, N_k {Points}, N_d {Directions} x N_p {InPlaneAngles} x N_t {Shifts}, SIMD {Simd}: " +
        $"gradient path {GradientParticlesPerSecond:F1} particles/s ({GradientGflops:F1} GFLOP/s executed, {GradientEquivalentGflops:F1} complex-equivalent), " +
        $"likelihood-only {LikelihoodParticlesPerSecond:F1} particles/s ({LikelihoodGflops:F1} executed, {LikelihoodEquivalentGflops:F1} equivalent), " +
        $"GEMMs alone: cross (real part) {CrossGemmGflops:F1}, full complex {ComplexGemmGflops:F1}, gradient {GradientGemmGflops:F1} GFLOP/s; " +
        $"per CPU-second of each thread: gradient path {GradientCpuParticlesPerSecond:F1}, likelihood-only {LikelihoodCpuParticlesPerSecond:F1} particles/s (CPU share {CpuShare:P0}); " +
        $"measured FMA peak {FmaPeakGflops:F1} GFLOP/s";
}

/// <summary>
/// A self-contained throughput measurement of <see cref="MarginalLikelihoodKernel"/> on synthetic
/// data at the operating point: D = 128, the half-plane disc |k| &lt; 40 (2,507 points),
/// 64 directions x 16 in-plane angles x 25 shifts per particle. For the CLI's `bench kernel`;
/// the BenchmarkDotNet suite in tests/CryoFlow.Benchmarks measures the same calls.
/// </summary>
public static class KernelBench
{
    /// <summary>Box size of the benchmark problem.</summary>
    public const int BoxSize = 128;
    /// <summary>Cutoff radius r* (Fourier pixels) of the benchmark problem.</summary>
    public const double Radius = 40;
    /// <summary>Sampled directions per particle.</summary>
    public const int Directions = 64;
    /// <summary>Sampled in-plane angles per particle.</summary>
    public const int InPlaneAngles = 16;
    /// <summary>Sampled shifts per particle (a 5 x 5 grid).</summary>
    public const int Shifts = 25;
    /// <summary>Timed passes per measurement; the fastest is reported (the others are disturbed by whatever else runs).</summary>
    public const int Repetitions = 3;

    /// <summary>
    /// Times the gradient path, the likelihood-only path and the big GEMMs alone, each over
    /// <paramref name="particles"/> particles split across <paramref name="threads"/> threads (one
    /// workspace each) after a warm-up, best of <see cref="Repetitions"/> passes.
    /// </summary>
    public static KernelBenchResult Run(int threads, int particles, Action<string> log)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(particles, 1);
        ArgumentNullException.ThrowIfNull(log);
        var problems = Enumerable.Range(0, threads).Select(i => BenchProblem.Create(BoxSize, Radius, Directions, InPlaneAngles, Shifts, seed: 1000 + i)).ToArray();
        int nk = problems[0].Points, rows = InPlaneAngles * Shifts;
        log($"kernel bench: D {BoxSize}, r* {Radius}, N_k {nk}, {Directions} x {InPlaneAngles} x {Shifts} poses, {threads} thread(s), {particles} particle(s), SIMD {KernelGuard.SimdAvailable}");
        var workspaces = problems.Select(p => new KernelWorkspace(p.Capacity)).ToArray();
        try
        {
            int perThread = (particles + threads - 1) / threads;
            int total = perThread * threads;
            var warm = new KernelResult[threads];
            RunThreads(threads, t => { for (int i = 0; i < 2; i++) warm[t] = problems[t].Evaluate(workspaces[t], gradient: true); });
            log($"  posterior: best pose probability {warm[0].BestProbability:G3}, {warm[0].GradientRows} of {rows} (p,t) rows in the gradient GEMMs");

            double Rate(double flopsPerParticle, double seconds) => flopsPerParticle * total / seconds * 1e-9;
            var (grad, gradCpu) = Best(threads, t => { for (int i = 0; i < perThread; i++) problems[t].Evaluate(workspaces[t], gradient: true); });
            double gradFlops = MarginalLikelihoodKernel.GemmFlops(nk, Directions, InPlaneAngles, Shifts, true);
            double gradEq = MarginalLikelihoodKernel.ComplexEquivalentFlops(nk, Directions, InPlaneAngles, Shifts, true);
            log($"  likelihood + gradient: {total / grad:F1} particles/s, {Rate(gradFlops, grad):F1} GFLOP/s executed ({Rate(gradEq, grad):F1} complex-equivalent), {grad / total * threads * 1e3:F2} ms per particle per thread; per CPU-second {total / gradCpu * threads:F1} particles/s ({gradCpu / (grad * threads):P0} CPU share)");

            var (like, likeCpu) = Best(threads, t => { for (int i = 0; i < perThread; i++) problems[t].Evaluate(workspaces[t], gradient: false); });
            double likeFlops = MarginalLikelihoodKernel.GemmFlops(nk, Directions, InPlaneAngles, Shifts, false);
            double likeEq = MarginalLikelihoodKernel.ComplexEquivalentFlops(nk, Directions, InPlaneAngles, Shifts, false);
            log($"  likelihood only:       {total / like:F1} particles/s, {Rate(likeFlops, like):F1} GFLOP/s executed ({Rate(likeEq, like):F1} complex-equivalent), {like / total * threads * 1e3:F2} ms per particle per thread; per CPU-second {total / likeCpu * threads:F1} particles/s ({likeCpu / (like * threads):P0} CPU share)");

            var gemms = problems.Select(p => new GemmOperands(rows, Directions, nk, p.Seed)).ToArray();
            RunThreads(threads, t => { gemms[t].CrossRealPart(); gemms[t].CrossComplex(); gemms[t].Gradient(); });
            double cross = Best(threads, t => { for (int i = 0; i < perThread; i++) gemms[t].CrossRealPart(); }).Wall;
            double crossGflops = Rate(4.0 * rows * Directions * nk, cross);
            log($"  cross GEMM alone, real part ({rows} x {Directions} over {nk}): {crossGflops:F1} GFLOP/s, {cross / total * threads * 1e3:F2} ms per particle per thread");
            double complex = Best(threads, t => { for (int i = 0; i < perThread; i++) gemms[t].CrossComplex(); }).Wall;
            double complexGflops = Rate(8.0 * rows * Directions * nk, complex);
            log($"  full complex GEMM alone (same shape, 8 flops per complex multiply-add): {complexGflops:F1} GFLOP/s");
            double gg = Best(threads, t => { for (int i = 0; i < perThread; i++) gemms[t].Gradient(); }).Wall;
            double ggGflops = Rate(4.0 * rows * Directions * nk, gg);
            log($"  gradient GEMM alone ({Directions} x {nk} over {rows}, real x complex): {ggGflops:F1} GFLOP/s, {gg / total * threads * 1e3:F2} ms per particle per thread");

            double peak = 0;
            if (KernelGuard.SimdAvailable)
            {
                const long iterations = 50_000_000;
                RunThreads(threads, _ => FmaChains(1000));
                double fma = Best(threads, _ => FmaChains(iterations)).Wall;
                peak = 12.0 * 16 * iterations * threads / fma * 1e-9;
                log($"  FMA peak probe (12 independent Vector256 FMA chains per thread): {peak:F1} GFLOP/s");
            }

            return new KernelBenchResult(threads, total, nk, Directions, InPlaneAngles, Shifts,
                total / grad, Rate(gradFlops, grad), Rate(gradEq, grad),
                total / like, Rate(likeFlops, like), Rate(likeEq, like),
                crossGflops, complexGflops, ggGflops,
                total / gradCpu * threads, total / likeCpu * threads, (gradCpu + likeCpu) / ((grad + like) * threads), peak, KernelGuard.SimdAvailable);
        }
        finally
        {
            foreach (var w in workspaces) w.Dispose();
        }
    }

    /// <summary>Fastest wall time of the repetitions, and the process CPU time (all threads) of the fastest-by-CPU one.</summary>
    private static (double Wall, double Cpu) Best(int threads, Action<int> body)
    {
        double wall = double.PositiveInfinity, cpu = double.PositiveInfinity;
        using var process = Process.GetCurrentProcess();
        for (int r = 0; r < Repetitions; r++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            RunThreads(threads, body);
            wall = Math.Min(wall, sw.Elapsed.TotalSeconds);
            process.Refresh();
            cpu = Math.Min(cpu, (process.TotalProcessorTime - cpu0).TotalSeconds);
        }
        return (wall, cpu);
    }

    /// <summary>12 independent FMA dependency chains: enough to cover 4-cycle latency on 2-3 FMA pipes.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float FmaChains(long iterations)
    {
        var a = Vector256.Create(0.999f);
        var b = Vector256.Create(1e-3f);
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector256<float> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Fma.MultiplyAdd(c0, a, b); c1 = Fma.MultiplyAdd(c1, a, b); c2 = Fma.MultiplyAdd(c2, a, b);
            c3 = Fma.MultiplyAdd(c3, a, b); c4 = Fma.MultiplyAdd(c4, a, b); c5 = Fma.MultiplyAdd(c5, a, b);
            c6 = Fma.MultiplyAdd(c6, a, b); c7 = Fma.MultiplyAdd(c7, a, b); c8 = Fma.MultiplyAdd(c8, a, b);
            c9 = Fma.MultiplyAdd(c9, a, b); c10 = Fma.MultiplyAdd(c10, a, b); c11 = Fma.MultiplyAdd(c11, a, b);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    private static void RunThreads(int threads, Action<int> body)
    {
        if (threads == 1) { body(0); return; }
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() => body(id)) { IsBackground = true, Name = $"kernel-bench-{id}" };
            workers[t].Start();
        }
        foreach (var w in workers) w.Join();
    }

    /// <summary>Operands of the big GEMMs at the kernel's shapes, for timing them alone.</summary>
    private sealed class GemmOperands
    {
        private readonly int _rows, _nd, _nk;
        private readonly float[] _uRe, _uIm, _sRe, _sIm, _xRe, _xIm, _gamma, _gRe, _gIm, _scratch;

        public GemmOperands(int rows, int nd, int nk, int seed)
        {
            _rows = rows; _nd = nd; _nk = nk;
            var rng = new Random(seed);
            float[] R(int n) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() - 0.5); return a; }
            int panel = KernelWorkspace.PanelStride(Math.Min(nk, KernelWorkspace.PanelK));
            _uRe = R(rows * panel); _uIm = R(rows * panel);
            _sRe = R(nd * nk); _sIm = R(nd * nk);
            _xRe = new float[rows * nd]; _xIm = new float[rows * nd];
            _gamma = R(rows * nd);
            _gRe = new float[nd * nk]; _gIm = new float[nd * nk];
            _scratch = new float[ComplexGemm.ScratchLength(nd, nk)];
        }

        // The kernel's panel loop: U one panel at a time against the matching columns of S.
        public void CrossRealPart()
        {
            for (int kb = 0; kb < _nk; kb += KernelWorkspace.PanelK)
            {
                int kc = Math.Min(KernelWorkspace.PanelK, _nk - kb), ldu = KernelWorkspace.PanelStride(kc);
                ComplexGemm.MultiplyABtRealPart(_uRe.AsSpan(0, _rows * ldu), _uIm.AsSpan(0, _rows * ldu), ldu,
                    _sRe.AsSpan(kb), _sIm.AsSpan(kb), _nk, _xRe, _nd, _rows, _nd, kc, kb > 0, _scratch);
            }
        }

        public void CrossComplex()
        {
            for (int kb = 0; kb < _nk; kb += KernelWorkspace.PanelK)
            {
                int kc = Math.Min(KernelWorkspace.PanelK, _nk - kb), ldu = KernelWorkspace.PanelStride(kc);
                ComplexGemm.MultiplyABt(_uRe.AsSpan(0, _rows * ldu), _uIm.AsSpan(0, _rows * ldu), ldu,
                    _sRe.AsSpan(kb), _sIm.AsSpan(kb), _nk, _xRe, _xIm, _nd, _rows, _nd, kc, kb > 0, _scratch);
            }
        }

        public void Gradient()
        {
            for (int kb = 0; kb < _nk; kb += KernelWorkspace.PanelK)
            {
                int kc = Math.Min(KernelWorkspace.PanelK, _nk - kb), ldu = KernelWorkspace.PanelStride(kc);
                ComplexGemm.MultiplyRealAtB(_gamma, _nd, _uRe.AsSpan(0, _rows * ldu), _uIm.AsSpan(0, _rows * ldu), ldu,
                    _gRe.AsSpan(kb), _gIm.AsSpan(kb), _nk, _nd, kc, _rows, false);
            }
        }
    }
}

/// <summary>
/// A synthetic particle problem on the half-plane disc: points (kx, ky) with kx² + ky² &lt; r², kept
/// when kx &gt; 0 (multiplicity 2) or kx = 0 and ky ≥ 0 (ky &gt; 0: 2; the origin: 1). Data are random
/// with a very weak signal, so the posterior is broad and every (p,t) row enters the gradient: the
/// worst case for the gradient path, and the case in which the GEMM flop count is the work done.
/// Used by <see cref="KernelBench"/> and the benchmark project.
/// </summary>
internal sealed class BenchProblem
{
    public required int Seed { get; init; }
    public required int BoxSize { get; init; }
    public required int[] Kx { get; init; }
    public required int[] Ky { get; init; }
    public required float[] Multiplicity { get; init; }
    public required float[] SliceRe { get; init; }
    public required float[] SliceIm { get; init; }
    public required float[] ImageRe { get; init; }
    public required float[] ImageIm { get; init; }
    public required float[] Ctf { get; init; }
    public required float[] ShiftX { get; init; }
    public required float[] ShiftY { get; init; }
    public required double[] LwD { get; init; }
    public required double[] LwP { get; init; }
    public required double[] LwT { get; init; }
    public required float[] GradRe { get; init; }
    public required float[] GradIm { get; init; }
    public required double[] PostD { get; init; }
    public required double[] PostP { get; init; }
    public required double[] PostT { get; init; }

    public int Points => Kx.Length;
    public KernelCapacity Capacity => new(Kx.Length, LwD.Length, LwP.Length, LwT.Length, BoxSize);

    public static BenchProblem Create(int boxSize, double radius, int nd, int np, int nt, int seed)
    {
        var kx = new List<int>();
        var ky = new List<int>();
        var mult = new List<float>();
        int r = (int)Math.Ceiling(radius);
        for (int y = -r; y <= r; y++)
            for (int x = 0; x <= r; x++)
            {
                if (x * x + y * y >= radius * radius) continue;
                if (x == 0 && y < 0) continue;
                kx.Add(x); ky.Add(y); mult.Add(x == 0 && y == 0 ? 1f : 2f);
            }
        int nk = kx.Count;
        var rng = new Random(seed);
        float G() => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        float[] Gauss(int n, float s) { var a = new float[n]; for (int i = 0; i < n; i++) a[i] = s * G(); return a; }
        // The rotated images of one particle have equal norms and an isotropic CTF is the same
        // after rotation: A_p = A_0 with a random phase per point, C_p = C_0.
        var ctf = new float[np * nk];
        var aRe = new float[np * nk];
        var aIm = new float[np * nk];
        for (int k = 0; k < nk; k++)
        {
            float c = (float)(0.2 + rng.NextDouble()), re = 0.7f * G(), im = 0.7f * G();
            for (int p = 0; p < np; p++)
            {
                double phase = 2 * Math.PI * rng.NextDouble();
                ctf[p * nk + k] = c;
                aRe[p * nk + k] = (float)(re * Math.Cos(phase) - im * Math.Sin(phase));
                aIm[p * nk + k] = (float)(re * Math.Sin(phase) + im * Math.Cos(phase));
            }
        }
        int side = (int)Math.Ceiling(Math.Sqrt(nt));
        var sx = new float[nt];
        var sy = new float[nt];
        for (int t = 0; t < nt; t++) { sx[t] = t % side - side / 2; sy[t] = t / side - side / 2; }
        return new BenchProblem
        {
            Seed = seed, BoxSize = boxSize, Kx = [.. kx], Ky = [.. ky], Multiplicity = [.. mult],
            SliceRe = Gauss(nd * nk, 0.005f), SliceIm = Gauss(nd * nk, 0.005f),
            ImageRe = aRe, ImageIm = aIm, Ctf = ctf,
            ShiftX = sx, ShiftY = sy,
            LwD = Enumerable.Repeat(-Math.Log(nd), nd).ToArray(),
            LwP = Enumerable.Repeat(-Math.Log(np), np).ToArray(),
            LwT = Enumerable.Repeat(-Math.Log(nt), nt).ToArray(),
            GradRe = new float[nd * nk], GradIm = new float[nd * nk],
            PostD = new double[nd], PostP = new double[np], PostT = new double[nt],
        };
    }

    public KernelResult Evaluate(KernelWorkspace ws, bool gradient)
    {
        var input = new KernelInputs
        {
            BoxSize = BoxSize, Kx = Kx, Ky = Ky, Multiplicity = Multiplicity,
            SliceRe = SliceRe, SliceIm = SliceIm, ImageRe = ImageRe, ImageIm = ImageIm, Ctf = Ctf,
            ShiftX = ShiftX, ShiftY = ShiftY, LogWeightDirection = LwD, LogWeightInPlane = LwP, LogWeightShift = LwT,
        };
        var output = new KernelOutputs
        {
            PosteriorDirection = PostD, PosteriorInPlane = PostP, PosteriorShift = PostT,
            GradientRe = gradient ? GradRe : default, GradientIm = gradient ? GradIm : default,
        };
        return MarginalLikelihoodKernel.Evaluate(input, ws, output);
    }
}
