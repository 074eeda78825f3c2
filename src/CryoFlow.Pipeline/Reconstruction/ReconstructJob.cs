using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using CryoFlow.Formats.Checkpoints;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.State;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Optimisation;
using CryoFlow.Numerics.Projection;
using CryoFlow.Pipeline.Output;
using CryoFlow.Pipeline.Sampling;
using CryoFlow.Pipeline.Stages.Read;
using Serilog;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>Progress of a run, for the console display.</summary>
/// <param name="Particles">particles in the run (a live run's pool grows)</param>
public readonly record struct RunProgress(long Iteration, long MaxIterations, double Resolution, double Objective, double? TestNll, double ParticlesPerSecond, TimeSpan Elapsed, string Stage,
    int Particles = 0);

/// <summary>
/// `cryoflow reconstruct`: ab-initio reconstruction from a random start by SAGD over minibatches with
/// the pose marginalised over the quadrature (DESIGN.md 3-8).
/// <para>Dataflow shape: a feeder posts the particle indices of upcoming minibatches into a bounded
/// read block (random access, Polly retries), whose output goes, in order, through a bounded prepare
/// block (float, normalise by the border noise, transform, CTF) into a bounded buffer, so the next
/// minibatch is read and prepared while the current one is marginalised. The main loop takes one
/// minibatch from the buffer and posts each particle to one of the marginalise blocks (one per
/// worker thread, particle position modulo the worker count, so each worker sums its particles in a
/// fixed order); the per-worker slice gradients are reduced in worker order into the density gradient,
/// and the optimiser steps. Every block is bounded: memory is set by the box and minibatch size.</para>
/// <para>Unattended runs (DESIGN.md 8): SAGD's gradient history and the importance-sampling states live in
/// disk-backed stores under RUN/state; a checkpoint (<see cref="RunCheckpoint"/>) is written atomically after
/// iteration 0, every output.checkpoint.everyIterations iterations, every output.checkpoint.everyMinutes minutes and
/// when the run stops, and the newest output.checkpoint.keep are kept (and the one of iteration 0). A run given
/// <see cref="ReconstructRequest.ResumeFrom"/> continues from its checkpoint and, for the same thread count, ends
/// with the same bytes as a run that was never stopped. An objective that becomes NaN or explodes rolls the run back
/// to the newest checkpoint known to be good and continues with smaller steps.</para>
/// </summary>
public sealed partial class ReconstructJob : IDisposable
{
    /// <summary>An objective more than this many times the magnitude of the lowest so far above it counts as exploding.</summary>
    private const double ExplosionFactor = 10;

    /// <summary>Each rollback multiplies the step by this.</summary>
    private const double RollbackStepFactor = 0.25;

    /// <summary>Rollbacks allowed in one run before it stops as diverged.</summary>
    private const int MaxRollbacks = 8;

    private readonly ReconstructRequest _request;
    private readonly ILogger _log;
    private readonly ParticleDataset _data;
    private readonly int _box, _threads;

    /// <summary>The particle images' box as read (before any crop to <see cref="_box"/>).</summary>
    private readonly int _inputBox;

    /// <summary>Fourier crop from the input box to the working box; null when they are the same.</summary>
    private readonly Numerics.Resampling.ImageResampler? _crop;
    private readonly System.Collections.Concurrent.ConcurrentBag<(Numerics.Resampling.ImageResampler.Workspace Workspace, float[] Image)> _cropScratch = [];

    /// <summary>
    /// data.workingBox: none keeps the input box; fixed crops to its size; ceiling crops to the smallest even box whose
    /// Nyquist reaches the highest w* the run can use (the schedule's limit, the ceiling and the target resolution).
    /// </summary>
    internal static int WorkingBox(Configuration.ReconstructConfig cfg, int inputBox, double inputPixelSize)
    {
        var w = cfg.Data.WorkingBox;
        int box = w.Policy switch
        {
            Configuration.WorkingBoxPolicy.Fixed => w.Size!.Value,
            Configuration.WorkingBoxPolicy.Ceiling => 2 * (int)Math.Ceiling(
                Math.Min(cfg.Resolution.MaxFrequency.At(int.MaxValue / 2), cfg.Resolution.CeilingFrequency(inputPixelSize)) * inputBox * inputPixelSize - 1e-9),
            _ => inputBox,
        };
        if (box % 2 != 0 || box < 8)
            throw new Configuration.ConfigException(new Configuration.ConfigIssue("data.workingBox.size", $"the working box must be even and at least 8 px (found {box})"));
        if (box > inputBox)
        {
            if (w.Policy == Configuration.WorkingBoxPolicy.Fixed)
                throw new Configuration.ConfigException(new Configuration.ConfigIssue("data.workingBox.size", $"the working box {box} is larger than the particles' box {inputBox}; Fourier cropping only shrinks"));
            box = inputBox;
        }
        return box;
    }
    private readonly double _apix, _radiusPx;
    private readonly VolumeProjector _projector;
    private readonly ImageRotator _rotator;
    private readonly FourierVolume _transform;
    private readonly GradientAssembler _assembler;
    private readonly MinibatchPlan _plan;

    /// <summary>Live mode: the growing pool (null for a fixed dataset), and the particles that have joined the plan.</summary>
    private readonly Stages.Extract.Watch.LiveParticles? _live;
    private int _joined;
    private TimeSpan _lastPoll;
    private DateTimeOffset _lastArrival = DateTimeOffset.Now;
    private readonly RejectedParticles _rejected = new();
    /// <summary>Each particle's most probable pose and its probability, on disk (RUN/state/poses.bin).</summary>
    private PoseStore? _poses;
    private readonly System.Collections.Concurrent.ConcurrentBag<ParticlePreparer> _preparers = [];
    private readonly System.Collections.Concurrent.ConcurrentBag<PreparedParticle> _particlePool = [];
    private readonly System.Collections.Concurrent.ConcurrentBag<float[]> _pixelPool = [];
    private readonly ResilientParticleReader _reader;
    private readonly ParticlePreparationOptions _preparation;
    private readonly string _run;
    private readonly CheckpointFolder _checkpoints;
    private PreparedParticleCache? _cache;
    private ActionBlock<WorkItem>[] _workers = [];
    private Task _workerStopped = Task.CompletedTask;

    // the quadrature stage
    private double _maxFrequency = double.NaN;
    private int _stage = -1;
    private readonly List<double> _stageFrequencies = [];
    private PoseGrid? _grid;
    private SliceSet? _slices;
    private ParticleMarginaliser[] _marginalisers = [];
    private SliceGradient[] _gradients = [];

    // importance sampling (null when importanceSampling.enabled is false: the full grid every visit)
    private SamplingEngine? _sampling;
    private SamplingEngine.Worker[] _samplingWorkers = [];

    // the optimisation: what a checkpoint holds besides the poses, the rejections and the stores
    private float[] _volume = [];
    private float[] _priorGradient = [], _dataGradient = [];
    private IOptimiser? _optimiser;
    private DiskGradientHistory? _history;
    private IDensityPrior? _prior;
    private double _modelScale;
    private long _done;
    private int _iteration;
    private double _bestTestNll = double.PositiveInfinity;
    private int _sinceImprovement;
    private double? _lastTestNll;
    private double _bestObjective = double.PositiveInfinity;
    private double _elapsedBefore;
    private int _rollbacks;
    private long? _resumedFrom;

    // outputs and checkpoint cadence
    private MetricsLog? _metrics;
    private long _checkpointedAt = -1;
    private TimeSpan _lastCheckpoint;
    private TimeSpan? _lastReport;

    private ReconstructJob(ReconstructRequest request, ILogger log, ParticleDataset data)
    {
        _request = request;
        _log = log;
        _data = data;
        var cfg = request.Config;
        _run = request.OutputDirectory;
        // data.workingBox: particles are Fourier-cropped from the input box to the working box as they are prepared
        _inputBox = data.BoxSize;
        _box = WorkingBox(cfg, data.BoxSize, data.PixelSize);
        _apix = data.PixelSize * _inputBox / _box;
        if (_box != _inputBox)
        {
            _crop = new Numerics.Resampling.ImageResampler(_inputBox, _box);
            log.Information("Working box {Box} ({Apix:G4} Å/px): particles Fourier-cropped from {Input} ({InputApix:G4} Å/px); Nyquist {Nyquist:F1} Å",
                _box, _apix, _inputBox, data.PixelSize, 2 * _apix);
        }
        _threads = cfg.Run.Threads > 0 ? cfg.Run.Threads : Environment.ProcessorCount;
        _radiusPx = cfg.Data.ParticleRadiusPixels(_box, _apix);
        if (cfg.Optimiser.SupportRadiusPixels(_apix) is double support)
        {
            if (support > _box / 2.0)
                throw new Configuration.ConfigException(new Configuration.ConfigIssue("optimiser.supportDiameter",
                    $"the solvent mask's diameter {cfg.Optimiser.SupportDiameter} Å is {2 * support:F1} px, wider than the {_box} px box"));
            log.Information("Solvent mask: the map is kept inside a sphere of {Diameter} Å ({Radius:F1} px radius, {Edge} px soft edge)",
                cfg.Optimiser.SupportDiameter, support, cfg.Optimiser.SupportSoftEdgePx);
        }
        var projection = ProjectorOptions.Default;
        _projector = new VolumeProjector(_box, projection);
        _rotator = new ImageRotator(_box, projection);
        _transform = _projector.CreateFourierVolume();
        _assembler = new GradientAssembler(_projector);
        // background statistics from the border (pixels farther than D/2 - borderWidthPx from the centre, REFERENCE 1.3),
        // then the circular mask at the particle radius (REFERENCE 1.4)
        _preparation = cfg.Data.PreparationFor(_box, _apix);
        _plan = new MinibatchPlan(data.Count, cfg.Data.TestSetSizeFor(data.Count), cfg.Data.MinibatchSize, cfg.Run.Seed);
        _live = request.Live;
        _joined = data.Count;
        IParticleImageSource source = data.Images;
        if (request.ImageSource is { } wrap) source = wrap(source);
        _reader = new ResilientParticleReader(source, request.ReadRetry, log, i => data.Catalog[i].Image.ToImageName());
        _checkpoints = RunCheckpoint.Folder(_run, request.CheckpointFiles);
        if (cfg.Data.Noise.Scope == Configuration.NoiseScope.Dataset)
            _preparation = _preparation with { FixedSigma = PooledSigma() };
    }

    /// <summary>
    /// data.noise.scope = dataset: one σ for every image, the median of the per-image estimates over the held-out
    /// particles (the same particles for a given seed, so a resumed run finds the same value). Unreadable or unusable
    /// particles are passed over here and rejected later, when they are prepared.
    /// </summary>
    private double PooledSigma()
    {
        var preparer = new ParticlePreparer(_rotator, _preparation);
        var pixels = new float[_inputBox * _inputBox];
        var cropped = new float[_box * _box];
        var normalised = new float[_box * _box];
        var workspace = _crop?.CreateWorkspace();
        var sigmas = new List<double>();
        var sample = _plan.TestSet.Length > 0 ? _plan.TestSet.ToArray() : Enumerable.Range(0, Math.Min(_data.Count, 200)).ToArray();
        foreach (int i in sample)
        {
            if (_reader.Read(i, pixels).Rejection is not null) continue;
            if (pixels.Any(v => !float.IsFinite(v))) continue;
            if (_crop is not null) _crop.Resample(pixels, cropped, workspace!);
            if (preparer.Normalise(_crop is null ? pixels : cropped, normalised, out _, out double sigma) == PreparationStatus.Ok) sigmas.Add(sigma);
        }
        if (sigmas.Count == 0)
            throw new CryoFlowDataException("no held-out particle could be read and normalised to pool the noise level (data.noise.scope dataset)",
                new DataLocation(FilePath: _request.ParticlesPath));
        sigmas.Sort();
        double pooled = sigmas[sigmas.Count / 2];
        _log.Information("Noise σ pooled over the dataset: {Sigma:G4} (median of {Count} held-out particles; per particle {Min:G4} to {Max:G4})",
            pooled, sigmas.Count, sigmas[0], sigmas[^1]);
        return pooled;
    }

    /// <summary>Runs a reconstruction to its end (convergence, a cap, or cancellation) and writes every output.</summary>
    /// <exception cref="Configuration.ConfigException">settings this version cannot honour, a memory budget the run does
    /// not fit, or a resume whose configuration changed without <see cref="ReconstructRequest.AllowConfigChange"/></exception>
    /// <exception cref="CheckpointWriteException">a checkpoint could not be written (the run stops; earlier ones are intact)</exception>
    /// <exception cref="ReconstructionDivergedException">the objective kept diverging after every rollback allowed</exception>
    public static ReconstructResult Run(ReconstructRequest request, ILogger log, Action<RunProgress>? progress = null, CancellationToken cancel = default)
    {
        request.Config.Validate();
        RefuseUnsupported(request.Config);
        if (request.Live is not null && request.Config.Run.Starts > 1)
            throw new Configuration.ConfigException(new Configuration.ConfigIssue("run.starts",
                $"{request.Config.Run.Starts} random starts cannot be raced in a live (--watch) run: its pool of particles grows while they would run", "command line"));
        var data = request.Live is { } live ? ParticleDataset.WaitForLive(live, request.Config.Data, log, cancel)
            : ParticleDataset.Open(request.ParticlesPath, request.Config.Data.PixelSize, request.DataDir, log);
        using var job = new ReconstructJob(request, log, data);
        return job.Execute(progress, cancel);
    }

    private ReconstructResult Execute(Action<RunProgress>? progress, CancellationToken cancel)
    {
        var cfg = _request.Config;
        var session = Stopwatch.StartNew();
        _log.Information("{Count} particles, box {Box}, {Apix:G6} Å/px; {Test} held out, {Batches} minibatches of about {Size}; {Threads} threads",
            _data.Count, _box, _apix, _plan.TestSet.Length, _plan.BatchCount, _plan.TrainingCount / _plan.BatchCount, _threads);
        MemoryBudget.Check(MemoryBudget.Estimate(Shape()), _request.MaxMemoryBytes, _log);

        // everything that can refuse the run does so before anything is written
        (CheckpointEntry Entry, CheckpointContents Contents, CheckpointMeta Meta)? resume = _request.ResumeFrom is CheckpointEntry entry ? OpenCheckpoint(entry) : null;
        if (_request.BadParticles == BadParticlePolicy.Fail && resume is null) CheckEveryParticle(cancel);

        if (_request.CacheDirectory is not null && _live is not null)
            throw new Configuration.ConfigException(new Configuration.ConfigIssue("--cache", "a live (--watch) run's pool grows; the prepared-particle cache is sized when it opens and cannot follow it", "command line"));
        if (_request.CacheDirectory is string cache)
            _cache = PreparedParticleCache.Open(cache, _request.ParticlesPath, _data, _rotator, _preparation, _apix, _log);
        Directory.CreateDirectory(_run);
        Directory.CreateDirectory(Path.Combine(_run, "iterations"));
        Formats.Star.AtomicFile.Write(Path.Combine(_run, "config.json"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(cfg.ToJson())));

        // the held-out set is small and visited often: prepared once and kept
        var test = PrepareAll(_plan.TestSet);
        _workers = new ActionBlock<WorkItem>[_threads];
        for (int w = 0; w < _threads; w++)
        {
            int worker = w;
            // not bound to the run's cancellation: a cancel is honoured between iterations, so the
            // minibatch in flight completes and every output is still written
            _workers[w] = new ActionBlock<WorkItem>(item => Marginalise(worker, item),
                new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1 });
        }
        // one watch for the run: a WhenAny per minibatch over tasks that never complete would leave its continuations on them
        _workerStopped = Task.WhenAny(_workers.Select(w => w.Completion));
        if (resume is { } r)
        {
            Restore(r.Entry, r.Contents, r.Meta, session, resuming: true);
            _resumedFrom = r.Meta.Iteration;
            _log.Information("Resumed from {Path}: iteration {It}, written {When:u} by CryoFlow {Version}", r.Entry.Path, r.Meta.Iteration, r.Meta.Written, r.Meta.CodeVersion);
        }
        else if (cfg.Run.Starts > 1)
        {
            ContinueStart(RaceStarts(progress, cancel), session);
        }
        else
        {
            Start(test, session);
        }

        StopReason reason;
        while (true)
        {
            var outcome = RunIterations(test, progress, session, cancel);
            if (outcome.Grow)
            {
                JoinArrivals();
                continue;
            }
            if (outcome.Divergence is not Divergence divergence)
            {
                reason = outcome.Reason;
                break;
            }
            RollBack(divergence, session);
        }
        _log.Information("Stopped after {It} iterations ({Reason}) at {Res:F1} Å", _done, reason, 1 / _maxFrequency);
        if (_checkpointedAt != _done) WriteCheckpoint(session, report: false);

        // final poses for the held-out particles too, with the final volume (once a stage was entered)
        double? finalNll = null;
        if (_slices is not null)
        {
            _sampling?.BeginIteration();
            _projector.Transform(_volume, _transform);
            _slices.Update(_projector, _transform, _threads);
            finalNll = EvaluateTest(test).Nll;
        }
        Release(test);
        var (mapIteration, mapNll) = ChooseMapToWrite(finalNll);
        foreach (var w in _workers) w.Complete();

        string map = Path.Combine(_run, "map.mrc");
        WriteMap(map, _volume, "CryoFlow ab-initio map");
        string star = Path.Combine(_run, "particles.star");
        WriteParticles(star);
        _rejected.Write(Path.Combine(_run, "rejected.star"), _data.Catalog);
        Report.RunReport.TryWrite(_run, null, _log); // RUN/report.html; a failure is logged, never fatal
        if (_cache is not null) _log.Information("Prepared-particle cache: {Hits} particles read from it, {Misses} prepared afresh", _cache.Counts.Hits, _cache.Counts.Misses);
        return new ReconstructResult(map, star, _done, reason, session.Elapsed.TotalSeconds, _rejected.Count, _maxFrequency, _resumedFrom, _rollbacks)
        {
            MapIteration = mapIteration,
            TestNll = mapNll,
            Starts = _startOutcomes,
        };
    }

    /// <summary>The sizes that set this run's memory; the quadrature is the finest stage's the schedule reaches within the iteration cap.</summary>
    private RunShape Shape()
    {
        var cfg = _request.Config;
        double finest = double.NaN, previous = double.NaN;
        int stage = -1, finestStage = 0;
        for (int tau = 0; tau < cfg.Run.MaxIterations; tau++)
        {
            double f = cfg.Resolution.MaxFrequencyAt(tau, _apix);
            if (f == previous) continue;
            previous = f;
            stage++;
            if (!(f <= finest)) (finest, finestStage) = (f, stage);
        }
        var level = CreateLevel(finest, finestStage);
        var disc = new Numerics.Fourier.FourierDisc(_box, Math.Min(finest * _box * _apix, _box / 2.0));
        return new RunShape(_box, _data.Count, _threads, cfg.Data.MinibatchSize, _plan.TestSet.Length, level.Directions.Length, level.InPlaneAngles.Length,
            level.Shifts.Length, disc.Count, 1 / finest);
    }

    /// <summary>Why <see cref="RunIterations"/> returned early: the objective diverged at an iteration.</summary>
    /// <param name="Iteration">the iteration that found it</param>
    /// <param name="LastGood">the newest iteration whose state is known good (a checkpoint at or before it can be resumed)</param>
    /// <param name="Problem">what was seen</param>
    private sealed record Divergence(long Iteration, long LastGood, string Problem);

    /// <param name="Grow">a live run's arrivals are to join the plan before the next iteration (an epoch starts)</param>
    private readonly record struct Outcome(StopReason Reason, Divergence? Divergence, bool Grow = false);

    /// <summary>Iterations from <see cref="_done"/> + 1 until a stop or a divergence; the input feeder lives as long.</summary>
    private Outcome RunIterations(List<PreparedMessage> test, Action<RunProgress>? progress, Stopwatch session, CancellationToken cancel)
    {
        var cfg = _request.Config;
        // the input stops when the run ends, not at the cancel itself: the minibatch in flight completes
        using var feederStop = new CancellationTokenSource();
        var (buffer, feeder) = StartInput(_done + 1, cfg.Run.MaxIterations, feederStop.Token);
        try
        {
            while (_done < cfg.Run.MaxIterations)
            {
                if (cancel.IsCancellationRequested) return new Outcome(StopReason.Cancelled, null);
                if (cfg.Run.TimeLimitMinutes is double limit && session.Elapsed.TotalMinutes >= limit) return new Outcome(StopReason.TimeLimit, null);
                long it = _done + 1;
                if (_live is not null)
                {
                    if (PollLive(session) is string ended)
                    {
                        _log.Information("Watch ended: {Reason}", ended);
                        return new Outcome(StopReason.WatchEnded, null);
                    }
                    if (ArrivalsJoinAt(it)) return new Outcome(StopReason.Cancelled, null, Grow: true);
                }
                var divergence = Iterate(it, test, buffer, progress, session, feederStop.Token);
                if (divergence is not null) return new Outcome(StopReason.Cancelled, divergence);
                // while watching, only the watch or a hard cap ends the run: more data may still come
                if (_live is null && cfg.Resolution.Stop.Patience > 0 && _sinceImprovement >= cfg.Resolution.Stop.Patience) return new Outcome(StopReason.Converged, null);
            }
            return new Outcome(StopReason.MaxIterations, null);
        }
        finally
        {
            StopInput(feederStop, feeder);
        }
    }

    /// <summary>One iteration: marginalise a minibatch, check the objective, evaluate the held-out set when due, step, record.</summary>
    /// <returns>null, or the divergence that stopped it (nothing of this iteration is kept)</returns>
    private Divergence? Iterate(long it, List<PreparedMessage> test, BufferBlock<PreparedMessage> buffer, Action<RunProgress>? progress, Stopwatch session,
        CancellationToken input)
    {
        var cfg = _request.Config;
        var iterationClock = Stopwatch.StartNew();
        int tau = (int)(it - 1);
        bool changed = EnterStage(cfg.Resolution.MaxFrequencyAt(tau, _apix), tau);
        _sampling?.BeginIteration();
        _iteration = (int)it;
        _projector.Transform(_volume, _transform);
        _slices!.Update(_projector, _transform, _threads);

        int batch = _plan.BatchAt(it);
        var items = TakeBatch(buffer, _plan.Batch(batch).Length, it, input);
        try
        {
            var totals = RunBatch(items, withGradient: true, recordPose: true, out _);
            if (totals.Particles == 0)
            {
                _log.Warning("Iteration {It}: every particle of minibatch {Batch} was rejected; skipping the step", it, batch);
                _done = it;
                return null;
            }
            double priorValue = _prior!.ValueAndGradient(_volume, _priorGradient);
            double objective = -totals.MeanLogLikelihood + priorValue;
            // the objective is the minibatch's at the volume the previous step made: a bad one condemns that step
            if (Diverging(objective) is string problem) return new Divergence(it, it - 2, problem);

            double? testNll = null, testRremse = null;
            if (it == 1 || tau % cfg.Evaluation.TestEvery == 0 || (changed && cfg.Evaluation.TestOnResolutionChange))
            {
                (testNll, testRremse) = EvaluateTest(test);
                _lastTestNll = testNll;
                bool atCeiling = _maxFrequency >= cfg.Resolution.CeilingFrequency(_apix) - 1e-12
                    || _maxFrequency >= cfg.Resolution.MaxFrequency.At(int.MaxValue / 2) - 1e-12;
                if (testNll < _bestTestNll - cfg.Resolution.Stop.MinDelta) { _bestTestNll = testNll.Value; _sinceImprovement = 0; }
                else if (atCeiling) _sinceImprovement++;
                if (!atCeiling) { _sinceImprovement = 0; _bestTestNll = Math.Min(_bestTestNll, testNll.Value); }
                // the held-out NLL is of the map after it - 1 iterations, and the poses recorded so far were found with it
                if (atCeiling && cfg.Resolution.Stop.KeepBest && testNll.Value < _keptTestNll) Keep(it - 1, testNll.Value);
            }

            _assembler.Assemble(_slices, _gradients, GradientScaling.PerImageMean, _dataGradient);
            for (int i = 0; i < _dataGradient.Length; i++) _dataGradient[i] = -_dataGradient[i]; // LL ascent -> NLL descent
            var step = _optimiser!.Step(new OptimiserContext
            {
                Iteration = tau,
                Batch = batch,
                Volume = _volume,
                DataGradient = _dataGradient,
                PriorGradient = _priorGradient,
                Objective = objective,
                ObjectiveAt = point => BatchObjective(point, items, _prior),
                MaxFrequencyChanged = changed,
                BandRadius = _slices.Disc.Radius,
                ShellPreconditioner = ShellScales(test),
            });
            if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(_volume))
                return new Divergence(it, it - 1, "the step made the density non-finite");
            _sampling?.Commit();
            _bestObjective = Math.Min(_bestObjective, objective);
            _done = it;

            var fractions = _sampling?.Fractions() ?? (1, 1, 1, 1);
            double seconds = iterationClock.Elapsed.TotalSeconds;
            var line = new IterationMetrics
            {
                Iteration = it,
                WallSeconds = _elapsedBefore + session.Elapsed.TotalSeconds,
                MaxFrequency = _maxFrequency,
                Lipschitz = step.Lipschitz,
                StepSize = step.StepSize,
                Objective = objective,
                TestNll = testNll,
                TestRremse = testRremse,
                QuadratureFraction = fractions.Total,
                DirectionFraction = fractions.Directions,
                InPlaneFraction = fractions.InPlane,
                ShiftFraction = fractions.Shifts,
                ParticlesPerSecond = totals.Particles / Math.Max(seconds, 1e-9),
                ResidentBytes = Environment.WorkingSet,
                ManagedHeapBytes = GC.GetGCMemoryInfo().HeapSizeBytes,
                Rejected = _rejected.Count,
                Particles = _data.Count,
                TrainingParticles = _plan.TrainingCount,
            };
            _metrics!.Append(line);
            progress?.Invoke(new RunProgress(it, cfg.Run.MaxIterations, 1 / _maxFrequency, objective, _lastTestNll, line.ParticlesPerSecond,
                TimeSpan.FromSeconds(line.WallSeconds), $"stage {_stage}", _data.Count));
            if (cfg.Output.MapEvery > 0 && it % cfg.Output.MapEvery == 0)
                WriteMap(Path.Combine(_run, "iterations", $"map_{it:D6}.mrc"), _volume, $"CryoFlow iteration {it}");
            if (CheckpointDue(session)) WriteCheckpoint(session, report: true);
            return null;
        }
        finally
        {
            Release(items);
        }
    }

    /// <summary>
    /// Why an objective means the run diverged: NaN or infinite, or more than <see cref="ExplosionFactor"/> times the lowest
    /// so far above it (the objective is a per-image NLL comparable across stages, so a healthy run never gets there).
    /// </summary>
    private string? Diverging(double objective)
    {
        if (!double.IsFinite(objective)) return $"the objective is {objective}";
        if (double.IsFinite(_bestObjective) && objective - _bestObjective > ExplosionFactor * Math.Max(Math.Abs(_bestObjective), 1))
            return $"the objective grew to {objective:G6}, from {_bestObjective:G6} at best";
        return null;
    }

    /// <summary>output.checkpoint: every N iterations, or T minutes after the last one, whichever comes first.</summary>
    private bool CheckpointDue(Stopwatch session)
    {
        var c = _request.Config.Output.Checkpoint;
        return (c.EveryIterations > 0 && _done % c.EveryIterations == 0)
            || (c.EveryMinutes > 0 && (session.Elapsed - _lastCheckpoint).TotalMinutes >= c.EveryMinutes);
    }

    /// <summary>
    /// Settings this version cannot honour are refused, never silently ignored: a run that asks for them stops before
    /// it starts, naming the key.
    /// </summary>
    private static void RefuseUnsupported(Configuration.ReconstructConfig cfg)
    {
        var issues = new List<Configuration.ConfigIssue>();
        void Unsupported(bool asked, string path, string what) { if (asked) issues.Add(new(path, $"{what} is not supported yet")); }
        Unsupported(!string.Equals(cfg.Quadrature.Symmetry, "C1", StringComparison.OrdinalIgnoreCase), "quadrature.symmetry", $"symmetry {cfg.Quadrature.Symmetry} (only C1)");
        if (issues.Count > 0) throw new Configuration.ConfigException(issues);
    }


    // ------------------------------------------------------------------ quadrature stages

    /// <summary>Moves to the quadrature of a new maximum frequency when it changed; true if it did.</summary>
    private bool EnterStage(double maxFrequency, int tau)
    {
        if (maxFrequency == _maxFrequency) return false;
        int stage = _stage + 1;
        var level = CreateLevel(maxFrequency, stage);
        _sampling?.EnterLevel(level, stage);
        _stageFrequencies.Add(maxFrequency);
        ApplyStage(level, maxFrequency, stage);
        _log.Information("Iteration {It}: max frequency {F:F4} 1/Å ({Res:F1} Å, r* {R:F1} px): {D} directions x {P} in-plane x {T} shifts = {N:N0} poses, {K} Fourier points",
            tau + 1, maxFrequency, 1 / maxFrequency, _slices!.Disc.Radius, _grid!.DirectionCount, _grid.InPlaneCount, _grid.ShiftCount, _grid.PoseCount, _slices.Points);
        return true;
    }

    /// <summary>The quadrature of a stage (a function of the configuration, the stage and its maximum frequency only).</summary>
    private Numerics.Quadrature.QuadratureLevel CreateLevel(double maxFrequency, int stage)
    {
        return _request.Config.Quadrature.LevelAt(_box, _apix, maxFrequency, stage);
    }

    /// <summary>Makes a stage current: its grid, slices, marginalisers and gradient buffers.</summary>
    private void ApplyStage(Numerics.Quadrature.QuadratureLevel level, double maxFrequency, int stage)
    {
        _stage = stage;
        _maxFrequency = maxFrequency;
        _grid = PoseGrid.FromQuadrature(level);
        double radius = Math.Min(maxFrequency * _box * _apix, _box / 2.0);
        _slices = new SliceSet(new Numerics.Fourier.FourierDisc(_box, radius), level.DirectionAngles);
        foreach (var m in _marginalisers) m.Dispose();
        var capacity = ParticleMarginaliser.CapacityFor(_slices, _grid.InPlaneCount, _grid.ShiftCount);
        _marginalisers = Enumerable.Range(0, _threads).Select(_ => new ParticleMarginaliser(_rotator, capacity)).ToArray();
        _gradients = Enumerable.Range(0, _threads).Select(_ => new SliceGradient(_slices)).ToArray();
    }

    private float[]? _shellScales;
    private double _shellScalesRadius = double.NaN;

    /// <summary>optimiser.shellPreconditioner: H_max / H(r) for the current band, from the held-out particles' CTFs; empty when off.</summary>
    private ReadOnlySpan<float> ShellScales(List<PreparedMessage> sample)
    {
        var cfg = _request.Config.Optimiser;
        if (!cfg.ShellPreconditioner) return default;
        double radius = _slices!.Disc.Radius;
        if (_shellScales is null || radius != _shellScalesRadius)
        {
            var ctfs = sample.Where(m => m.Prepared is not null).Select(m => m.Prepared!.NormalisedCtf).ToList();
            if (ctfs.Count == 0) ctfs.Add(ParticleDataset.IdentityCtf.CreateEvaluator());
            _shellScales ??= new float[ShellPreconditioner.Length(_box)];
            ShellPreconditioner.FromCtfs(_box, _apix, ctfs, radius, cfg.ShellPreconditionerCap, _shellScales);
            _shellScalesRadius = radius;
            _log.Debug("Shell preconditioner for r* {R:F1}: scales {Min:G3} to {Max:G3}", radius, _shellScales.Take((int)(radius * radius) + 1).Min(), _shellScales.Take((int)(radius * radius) + 1).Max());
        }
        return _shellScales;
    }

    // ------------------------------------------------------------------ start, outputs

    /// <summary>
    /// A sum of random spheres inside the particle radius, scaled so its projections carry about the
    /// signal power the data show (mean image energy above the unit noise, in raw units).
    /// </summary>
    private float[] InitialVolume(List<PreparedMessage> sample)
    {
        var cfg = _request.Config;
        if (cfg.Data.InitialMap is string initial) return ReadInitialMap(initial);
        // the spheres lie inside the particle radius, and inside the solvent mask when there is one
        double startRadius = Math.Min(_radiusPx, cfg.Optimiser.SupportRadiusPixels(_apix) ?? double.PositiveInfinity);
        int seed = cfg.Run.StartSeed ?? cfg.Run.Seed;
        var start = new RandomStartOptions { Seed = seed, ParticleRadius = startRadius };
        var volume = RandomStart.Create(_box, start);
        var ok = sample.Where(m => m.Prepared is not null).Select(m => m.Prepared!).ToList();
        double pixels = (double)_box * _box;
        double signal = ok.Count == 0 ? 0.05 : ok.Average(p => Math.Max(0, p.TotalEnergy / pixels - 1) * p.NoiseSigma * p.NoiseSigma);
        signal = Math.Max(signal, 1e-6);
        var renderer = new Numerics.Simulation.ParticleRenderer(volume, _box, _apix);
        var ws = renderer.CreateWorkspace();
        var image = new float[_box * _box];
        double power = 0;
        var rng = new Random(seed);
        const int views = 8;
        for (int i = 0; i < views; i++)
        {
            var angles = new EulerAngles(rng.NextDouble() * 360, Math.Acos(2 * rng.NextDouble() - 1) * 180 / Math.PI, rng.NextDouble() * 360);
            renderer.Render(new Pose(angles, 0, 0), null, ws, image);
            double mean = image.Average(v => (double)v);
            power += image.Sum(v => (v - mean) * (v - mean)) / pixels;
        }
        power /= views;
        // the CTF keeps about half the power on average
        double scale = power > 0 ? Math.Sqrt(2 * signal / power) : 1;
        for (int i = 0; i < volume.Length; i++) volume[i] = (float)(volume[i] * scale);
        _log.Information("Random start (seed {Seed}): {Spheres} spheres inside {Radius:F1} px, scaled by {Scale:G3} to a signal power of {Signal:G3}", seed, start.SphereCount, startRadius, scale, signal);
        return volume;
    }

    /// <summary>data.initialMap: a map of the particles' box and voxel size, taken as it is.</summary>
    private float[] ReadInitialMap(string path)
    {
        using var reader = MrcReader.OpenVolume(path, _log);
        var h = reader.Header;
        if (h.Nx != _box || h.Ny != _box || h.Nz != _box)
            throw new CryoFlowDataException("the initial map's box differs from the particles'", new DataLocation(FilePath: path, Field: "NX/NY/NZ (data.initialMap)",
                Expected: $"{_box} x {_box} x {_box}", Found: $"{h.Nx} x {h.Ny} x {h.Nz}"));
        if (h.VoxelSizeX is double v && Math.Abs(v - _apix) > 0.01 * _apix)
            throw new CryoFlowDataException("the initial map's voxel size differs from the particles' pixel size", new DataLocation(FilePath: path, Field: "CELLA/MX (data.initialMap)",
                Expected: $"{_apix:G6} Å", Found: $"{v:G6} Å"));
        var volume = reader.ReadVolume();
        if (volume.Any(x => !float.IsFinite(x)))
            throw new CryoFlowDataException("the initial map holds NaN or infinite voxels", new DataLocation(FilePath: path, Field: "data (data.initialMap)"));
        _log.Information("Starting from the map {Path}", path);
        return volume;
    }

    private void WriteMap(string path, float[] volume, string label) =>
        MrcWriter.WriteVolume(path, volume, _box, _box, _box, new MrcWriterOptions { VoxelSize = _apix, Label = label });

    /// <summary>particles.star: the input's rows (streamed again) with each particle's most probable pose, the file's
    /// own pose where the run has none, and rlnMaxValueProbDistribution (0 where the run has none).</summary>
    private void WriteParticles(string path)
    {
        var catalog = _data.Catalog;
        int n = catalog.Count;
        Pose PoseOf(int i) => _poses!.TryGet(i, out var p, out _) ? p : catalog[i].Pose ?? default;
        catalog.WriteStar(path,
            ParticleColumn.FromDoubles(RelionLabels.AngleRot, n, i => PoseOf(i).Angles.RotDeg),
            ParticleColumn.FromDoubles(RelionLabels.AngleTilt, n, i => PoseOf(i).Angles.TiltDeg),
            ParticleColumn.FromDoubles(RelionLabels.AnglePsi, n, i => PoseOf(i).Angles.PsiDeg),
            ParticleColumn.FromDoubles(RelionLabels.OriginXAngst, n, i => PoseOf(i).OriginXAngst),
            ParticleColumn.FromDoubles(RelionLabels.OriginYAngst, n, i => PoseOf(i).OriginYAngst),
            ParticleColumn.FromDoubles(RelionLabels.MaxValueProbDistribution, n, i => _poses!.TryGet(i, out _, out double q) ? q : 0));
    }

    public void Dispose()
    {
        _metrics?.Dispose();
        _sampling?.Dispose();
        _history?.Dispose();
        _poses?.Dispose();
        _cache?.Dispose();
        foreach (var m in _marginalisers) m.Dispose();
        _data.Dispose();
    }
}
