using System.Diagnostics;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Numerics.Evaluation;
using CryoFlow.Numerics.Likelihood;
using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Projection;
using CryoFlow.Numerics.Quadrature;
using CryoFlow.Pipeline.Configuration;
using Serilog;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>What <see cref="SamplingAccuracyBench.Run"/> measures (`cryoflow bench is-accuracy`).</summary>
public sealed record SamplingAccuracyRequest
{
    /// <summary>The map the likelihoods are evaluated with (a converged map).</summary>
    public required string MapPath { get; init; }

    /// <summary>The map of the particles' previous visit, whose exhaustive posteriors seed the proposals; null: the map
    /// blurred by <see cref="PreviousBFactor"/>.</summary>
    public string? PreviousMapPath { get; init; }

    /// <summary>Å^2, when <see cref="PreviousMapPath"/> is null: the previous map is the map low-passed by exp(-B s^2/4)
    /// (0: the map itself).</summary>
    public double PreviousBFactor { get; init; }

    /// <summary>.star, .cs or .mrcs (with data.pixelSize).</summary>
    public required string ParticlesPath { get; init; }

    public string? DataDir { get; init; }

    /// <summary>Particle preparation, quadrature, importance sampling (its essScale is replaced by each of
    /// <see cref="EssScales"/>), run.threads and run.seed.</summary>
    public ReconstructConfig Config { get; init; } = ReconstructConfig.Default;

    /// <summary>The first this many particles that prepare.</summary>
    public int Count { get; init; } = 100;

    /// <summary>w*, 1/Å, of the evaluated visit.</summary>
    public required double MaxFrequency { get; init; }

    /// <summary>w* of the previous visit; null: the same level (a state recorded on a coarser level is carried over
    /// through the kernel, as in a run).</summary>
    public double? PreviousMaxFrequency { get; init; }

    /// <summary>s0 values; one independent sampling engine each, seeded by the same previous visit.</summary>
    public IReadOnlyList<double> EssScales { get; init; } = [1, 3, 10, 30];

    /// <summary>
    /// The iteration of the previous visit: it sets the annealing temperature T and the uniform share a of the next
    /// proposal (importanceSampling.temperature and uniformShare). The evaluated visit is the next iteration. Default:
    /// late in a run (both schedules at their floors).
    /// </summary>
    public int Iteration { get; init; } = 3000;

    /// <summary>Stage clock of the undersampling schedules; null: the stage at which the configured resolution schedule
    /// reaches w* (its last stage when it never does).</summary>
    public int? Stage { get; init; }

    /// <summary>Independent sample sets per particle and s0 (visits at successive iterations; the proposal does not
    /// change between them).</summary>
    public int Repeats { get; init; } = 1;
}

/// <summary>One factor's or the whole grid's size.</summary>
public readonly record struct GridSize(int Directions, int InPlaneAngles, int Shifts, int FourierPoints)
{
    public long Poses => (long)Directions * InPlaneAngles * Shifts;
}

/// <summary>Summary over particles and repeats of one s0.</summary>
/// <param name="MedianRelativeError">median |LL_IS - LL| / |LL| (the paper's figure 8 metric)</param>
/// <param name="MedianAbsoluteError">median |LL_IS - LL|</param>
/// <param name="MedianLikelihoodError">median |exp(LL_IS - LL) - 1|: the error of the likelihood itself</param>
/// <param name="MeanLikelihoodRatio">mean exp(LL_IS - LL): 1 for an unbiased estimator of the likelihood</param>
/// <param name="MeanLikelihoodRatioError">standard error of <paramref name="MeanLikelihoodRatio"/></param>
/// <param name="MeanFraction">mean share of the grid's poses evaluated</param>
/// <param name="MeanDirectionFraction">mean share of the directions evaluated (likewise in-plane, shifts)</param>
/// <param name="MeanDirectionDraws">mean N, the draws with replacement, of the direction sampler (likewise in-plane,
/// shifts); N = min(ceil(s0 ESS), M), 0 when the factor's whole grid was evaluated</param>
/// <param name="MeanStateBytes">mean size of the record this visit leaves in the state store</param>
/// <param name="SecondsPerParticle">sampling + evaluation time per particle visit (thread time; noisy)</param>
public sealed record EssScaleAccuracy(
    double EssScale, double MedianRelativeError, double MeanRelativeError, double MedianAbsoluteError, double MeanAbsoluteError,
    double MedianLikelihoodError, double MeanLikelihoodRatio, double MeanLikelihoodRatioError,
    double MeanFraction, double MedianFraction, double MeanDirectionFraction, double MeanInPlaneFraction, double MeanShiftFraction,
    double MeanDirectionDraws, double MeanInPlaneDraws, double MeanShiftDraws, double MeanStateBytes, double SecondsPerParticle);

/// <summary>One particle: its exhaustive log-likelihood and, per s0 and repeat, LL_IS - LL.</summary>
public sealed record ParticleAccuracy(int Particle, double LogLikelihood, double[][] Deltas);

/// <summary>Figures of one <see cref="SamplingAccuracyBench.Run"/>.</summary>
/// <param name="Temperature">T of the recorded previous visit</param>
/// <param name="UniformShare">a of the evaluated visit's proposals</param>
/// <param name="PreviousStateBytes">mean record size after the exhaustive previous visit</param>
/// <param name="ExhaustiveSecondsPerParticle">one exhaustive evaluation with the map (thread time; noisy)</param>
public sealed record SamplingAccuracyResult(
    int BoxSize, double PixelSize, double MaxFrequency, int Stage, GridSize Grid, GridSize PreviousGrid,
    int Iteration, double Temperature, double UniformShare, bool ChiralityFlip, double PreviousBFactor, int Repeats,
    double PreviousStateBytes, double ExhaustiveSecondsPerParticle,
    IReadOnlyList<EssScaleAccuracy> Scales, IReadOnlyList<ParticleAccuracy> Particles)
{
    /// <summary>Median exhaustive LL over the particles (the scale the relative error divides by).</summary>
    public double MedianLogLikelihood => SamplingAccuracyBench.Median(Particles.Select(p => p.LogLikelihood));
}

/// <summary>
/// DESIGN 4.2's validation on real likelihoods (the paper's figure 8): particles are prepared as `reconstruct` does;
/// each particle's importance-sampling state is recorded, through <see cref="SamplingEngine"/> exactly as in a run,
/// from an exhaustive evaluation against the previous map; then, per s0, the engine draws the next visit's sample set
/// and the marginaliser evaluates log p(I | V) on it with the map, against the exhaustive sum with the same map.
/// Reported per s0: the relative and absolute error of log p, the error of the likelihood itself, the mean of
/// exp(LL_IS - LL) (unbiasedness), the share of the grid evaluated and the records left in the state store.
/// </summary>
public static class SamplingAccuracyBench
{
    public static SamplingAccuracyResult Run(SamplingAccuracyRequest request, ILogger log, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(log);
        Validate(request);
        var cfg = request.Config;
        cfg.Validate();
        using var data = ParticleDataset.Open(request.ParticlesPath, cfg.Data.PixelSize, request.DataDir, log);
        int box = data.BoxSize, threads = cfg.Run.Threads > 0 ? cfg.Run.Threads : Environment.ProcessorCount;
        double apix = data.PixelSize;
        float[] map = ReadMap(request.MapPath, box, log);
        float[] previousMap = request.PreviousMapPath is string prev ? ReadMap(prev, box, log) : MapFilter.ApplyBFactor(map, box, apix, request.PreviousBFactor);

        var projection = ProjectorOptions.Default;
        var projector = new VolumeProjector(box, projection);
        var rotator = new ImageRotator(box, projection);
        var particles = Prepare(data, request.ParticlesPath, cfg, rotator, request.Count, log);
        int n = particles.Count;

        var stages = cfg.Resolution.Stages(apix, cfg.Run.MaxIterations);
        int stage = request.Stage ?? StageReaching(stages, request.MaxFrequency);
        var level = cfg.Quadrature.LevelAt(box, apix, request.MaxFrequency, stage);
        var previousLevel = request.PreviousMaxFrequency is double pw && pw != request.MaxFrequency
            ? cfg.Quadrature.LevelAt(box, apix, pw, request.Stage is int s ? Math.Max(0, s - 1) : StageReaching(stages, pw))
            : level;
        var slices = Slices(projector, map, level, threads);
        var previousSlices = Slices(projector, previousMap, previousLevel, threads);
        var grid = PoseGrid.FromQuadrature(level);
        var capacity = Max(ParticleMarginaliser.CapacityFor(slices, level.InPlaneAngles.Length, level.Shifts.Length),
            ParticleMarginaliser.CapacityFor(previousSlices, previousLevel.InPlaneAngles.Length, previousLevel.Shifts.Length));

        var isOptions = cfg.ImportanceSampling;
        int recordIteration = request.Iteration, visit = request.Iteration + 1;
        bool flip = visit < isOptions.ChiralityFlipUntil;
        string stateRoot = Path.Combine(Path.GetTempPath(), $"cryoflow-is-accuracy-{Guid.NewGuid():N}");
        var everyone = Enumerable.Range(0, n).ToArray();
        var engines = new SamplingEngine[request.EssScales.Count];
        var marginalisers = new ParticleMarginaliser[threads];
        try
        {
            for (int e = 0; e < engines.Length; e++)
            {
                // repeats visit successive iterations: hold the chirality flip where the evaluated visit has it
                var options = isOptions with { Enabled = true, EssScale = request.EssScales[e], ChiralityFlipUntil = flip ? int.MaxValue : 0 };
                engines[e] = new SamplingEngine(options, n, everyone, Path.Combine(stateRoot, e.ToString(System.Globalization.CultureInfo.InvariantCulture)), cfg.Run.Seed);
            }
            for (int w = 0; w < threads; w++) marginalisers[w] = new ParticleMarginaliser(rotator, capacity);
            var workers = Enumerable.Range(0, threads).Select(_ => engines.Select(_ => new SamplingEngine.Worker()).ToArray()).ToArray();

            // the previous visit: the first, so the full grid, recorded by every engine from one exhaustive evaluation
            progress?.Invoke($"previous visit: {n} particles x {previousLevel.PoseCount:N0} poses");
            foreach (var engine in engines)
            {
                engine.EnterLevel(previousLevel, 0);
                engine.BeginIteration();
            }
            ForEachParticle(threads, n, (w, i) =>
            {
                var ws = workers[w];
                var subset = engines[0].Sample(ws[0], i, recordIteration);
                var first = engines[0].Outputs(ws[0]);
                marginalisers[w].Evaluate(particles[i].Prepared, previousSlices, subset, null, first);
                engines[0].Record(ws[0], i, recordIteration);
                for (int e = 1; e < engines.Length; e++)
                {
                    engines[e].Sample(ws[e], i, recordIteration);
                    var o = engines[e].Outputs(ws[e]);
                    first.PosteriorDirection.CopyTo(o.PosteriorDirection);
                    first.PosteriorInPlane.CopyTo(o.PosteriorInPlane);
                    first.PosteriorShift.CopyTo(o.PosteriorShift);
                    engines[e].Record(ws[e], i, recordIteration);
                }
            });
            foreach (var engine in engines)
            {
                engine.Commit();
                if (!ReferenceEquals(previousLevel, level)) engine.EnterLevel(level, 1);
                engine.BeginIteration();
            }
            double previousBytes = everyone.Average(i => (double)engines[0].StateBytes(i));

            // the evaluated visit: exhaustive, then each s0's sample sets
            progress?.Invoke($"evaluated visit: {n} particles x ({level.PoseCount:N0} poses + {engines.Length} s0 x {request.Repeats} sample sets)");
            int scales = engines.Length, repeats = request.Repeats;
            var exact = new double[n];
            var delta = New(scales, n, repeats);
            var fraction = New(4, scales, n * repeats);
            var draws = New(3, scales, n * repeats);
            var ticks = new long[scales + 1];
            ForEachParticle(threads, n, (w, i) =>
            {
                var clock = Stopwatch.StartNew();
                exact[i] = marginalisers[w].Evaluate(particles[i].Prepared, slices, grid.AsSubset()).LogLikelihood;
                Interlocked.Add(ref ticks[scales], clock.ElapsedTicks);
                for (int e = 0; e < scales; e++)
                {
                    var sw = workers[w][e];
                    clock.Restart();
                    for (int r = 0; r < repeats; r++)
                    {
                        var subset = engines[e].Sample(sw, i, visit + r);
                        var result = marginalisers[w].Evaluate(particles[i].Prepared, slices, subset, null, engines[e].Outputs(sw));
                        if (r == 0) engines[e].Record(sw, i, visit);
                        delta[e][i][r] = result.LogLikelihood - exact[i];
                        int at = i * repeats + r;
                        fraction[0][e][at] = (double)sw.Set.PoseCount / level.PoseCount;
                        fraction[1][e][at] = (double)sw.Workspaces[0].Count / level.Directions.Length;
                        fraction[2][e][at] = (double)sw.Workspaces[1].Count / level.InPlaneAngles.Length;
                        fraction[3][e][at] = (double)sw.Workspaces[2].Count / level.Shifts.Length;
                        for (int f = 0; f < 3; f++) draws[f][e][at] = sw.Workspaces[f].Draws;
                    }
                    Interlocked.Add(ref ticks[e], clock.ElapsedTicks);
                }
            });
            foreach (var engine in engines) engine.Commit();

            var rows = new EssScaleAccuracy[scales];
            for (int e = 0; e < scales; e++)
            {
                var d = delta[e].SelectMany(x => x).ToArray();
                var rel = delta[e].SelectMany((x, i) => x.Select(v => Math.Abs(v / exact[i]))).ToArray();
                var ratio = d.Select(Math.Exp).ToArray();
                double mean = ratio.Average();
                double se = ratio.Length > 1 ? Math.Sqrt(ratio.Sum(v => (v - mean) * (v - mean)) / (ratio.Length - 1) / ratio.Length) : double.NaN;
                var engine = engines[e];
                rows[e] = new EssScaleAccuracy(request.EssScales[e], Median(rel), rel.Average(), Median(d.Select(Math.Abs)), d.Average(Math.Abs),
                    Median(ratio.Select(v => Math.Abs(v - 1))), mean, se,
                    fraction[0][e].Average(), Median(fraction[0][e]), fraction[1][e].Average(), fraction[2][e].Average(), fraction[3][e].Average(),
                    draws[0][e].Average(), draws[1][e].Average(), draws[2][e].Average(),
                    everyone.Average(i => (double)engine.StateBytes(i)), Seconds(ticks[e]) / (n * repeats));
            }
            var perParticle = Enumerable.Range(0, n).Select(i => new ParticleAccuracy(particles[i].Index, exact[i], delta.Select(x => x[i]).ToArray())).ToArray();
            return new SamplingAccuracyResult(box, apix, request.MaxFrequency, stage, SizeOf(level, slices), SizeOf(previousLevel, previousSlices),
                request.Iteration, Math.Max(1, isOptions.Temperature.At(recordIteration)), Math.Clamp(isOptions.UniformShare.At(recordIteration), 0, 1), flip,
                request.PreviousMapPath is null ? request.PreviousBFactor : double.NaN, repeats, previousBytes, Seconds(ticks[scales]) / n, rows, perParticle);
        }
        finally
        {
            foreach (var engine in engines) engine?.Dispose();
            foreach (var m in marginalisers) m?.Dispose();
            if (Directory.Exists(stateRoot)) Directory.Delete(stateRoot, recursive: true);
        }
    }

    private static void Validate(SamplingAccuracyRequest r)
    {
        if (r.Count < 1) throw new ArgumentOutOfRangeException(nameof(r), r.Count, "count must be at least 1");
        if (r.EssScales.Count == 0 || r.EssScales.Any(s => !(s > 0) || double.IsInfinity(s))) throw new ArgumentException("s0 values must be positive and finite", nameof(r));
        if (!(r.MaxFrequency > 0)) throw new ArgumentOutOfRangeException(nameof(r), r.MaxFrequency, "the maximum frequency must be positive");
        if (r.PreviousMaxFrequency is double p && !(p > 0)) throw new ArgumentOutOfRangeException(nameof(r), p, "the previous maximum frequency must be positive");
        if (!(r.PreviousBFactor >= 0)) throw new ArgumentOutOfRangeException(nameof(r), r.PreviousBFactor, "the B-factor must be >= 0");
        if (r.Repeats < 1) throw new ArgumentOutOfRangeException(nameof(r), r.Repeats, "repeats must be at least 1");
        if (r.Iteration < 0) throw new ArgumentOutOfRangeException(nameof(r), r.Iteration, "the iteration must be >= 0");
    }

    private static float[] ReadMap(string path, int box, ILogger log)
    {
        using var reader = MrcReader.OpenVolume(path, log);
        var h = reader.Header;
        if (h.Nx != box || h.Ny != box || h.Nz != box)
            throw new MrcFormatException("the map's box differs from the particles'", new DataLocation(FilePath: path, Field: "NX, NY, NZ", Expected: $"{box} x {box} x {box}", Found: $"{h.Nx} x {h.Ny} x {h.Nz}"));
        return reader.ReadVolume();
    }

    private static List<(int Index, PreparedParticle Prepared)> Prepare(ParticleDataset data, string path, ReconstructConfig cfg, ImageRotator rotator, int count, ILogger log)
    {
        var preparer = new ParticlePreparer(rotator, cfg.Data.PreparationFor(data.BoxSize, data.PixelSize));
        var pixels = new float[data.BoxSize * data.BoxSize];
        var result = new List<(int, PreparedParticle)>(count);
        for (int i = 0; i < data.Count && result.Count < count; i++)
        {
            data.Images.Read(i, pixels);
            var particle = preparer.CreateParticle();
            var status = preparer.TryPrepare(pixels, data.PixelSize, data.CtfOf(i), particle);
            if (status == PreparationStatus.Ok) result.Add((i, particle));
            else log.Warning("Particle {Index} skipped: {Status}", i, status);
        }
        if (result.Count == 0) throw new CryoFlowDataException("no particle could be prepared", new DataLocation(FilePath: path));
        return result;
    }

    /// <summary>The stage whose w* first reaches <paramref name="maxFrequency"/>; the last stage if none does.</summary>
    private static int StageReaching(IReadOnlyList<(int FirstIteration, double MaxFrequency)> stages, double maxFrequency)
    {
        for (int k = 0; k < stages.Count; k++)
            if (stages[k].MaxFrequency >= maxFrequency - 1e-12) return k;
        return stages.Count - 1;
    }

    private static SliceSet Slices(VolumeProjector projector, float[] volume, QuadratureLevel level, int threads)
    {
        var slices = new SliceSet(SamplingStateSizes.DiscOf(level), level.DirectionAngles);
        var transform = projector.CreateFourierVolume();
        projector.Transform(volume, transform);
        slices.Update(projector, transform, threads);
        return slices;
    }

    private static KernelCapacity Max(KernelCapacity a, KernelCapacity b) => new(Math.Max(a.Points, b.Points), Math.Max(a.Directions, b.Directions),
        Math.Max(a.InPlaneAngles, b.InPlaneAngles), Math.Max(a.Shifts, b.Shifts), Math.Max(a.BoxSize, b.BoxSize));

    private static GridSize SizeOf(QuadratureLevel level, SliceSet slices) =>
        new(level.Directions.Length, level.InPlaneAngles.Length, level.Shifts.Length, slices.Points);

    /// <summary>Particles w, w + threads, ... on worker w: the sample sets depend only on (seed, iteration, particle).</summary>
    private static void ForEachParticle(int threads, int count, Action<int, int> body) =>
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, w =>
        {
            for (int i = w; i < count; i += threads) body(w, i);
        });

    private static double[][][] New(int a, int b, int c) =>
        Enumerable.Range(0, a).Select(_ => Enumerable.Range(0, b).Select(_ => new double[c]).ToArray()).ToArray();

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    internal static double Median(IEnumerable<double> values)
    {
        var s = values.Order().ToArray();
        if (s.Length == 0) return double.NaN;
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
