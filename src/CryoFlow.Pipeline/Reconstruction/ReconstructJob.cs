using System.Diagnostics;
using System.Threading.Tasks.Dataflow;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
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
public readonly record struct RunProgress(long Iteration, long MaxIterations, double Resolution, double Objective, double? TestNll, double ParticlesPerSecond, TimeSpan Elapsed, string Stage);

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
/// </summary>
public sealed class ReconstructJob : IDisposable
{
    private readonly ReconstructRequest _request;
    private readonly ILogger _log;
    private readonly ParticleDataset _data;
    private readonly int _box, _threads;
    private readonly double _apix, _radiusPx;
    private readonly VolumeProjector _projector;
    private readonly ImageRotator _rotator;
    private readonly FourierVolume _transform;
    private readonly GradientAssembler _assembler;
    private readonly MinibatchPlan _plan;
    private readonly RejectedParticles _rejected = new();
    private readonly Pose?[] _bestPose;
    private readonly double[] _bestProbability;
    private readonly System.Collections.Concurrent.ConcurrentBag<ParticlePreparer> _preparers = [];
    private readonly System.Collections.Concurrent.ConcurrentBag<PreparedParticle> _particlePool = [];
    private readonly System.Collections.Concurrent.ConcurrentBag<float[]> _pixelPool = [];
    private readonly ResilientParticleReader _reader;
    private readonly ParticlePreparationOptions _preparation;

    // the quadrature stage
    private double _maxFrequency = double.NaN;
    private int _stage = -1;
    private PoseGrid? _grid;
    private SliceSet? _slices;
    private ParticleMarginaliser[] _marginalisers = [];
    private SliceGradient[] _gradients = [];

    // importance sampling (null when importanceSampling.enabled is false: the full grid every visit)
    private SamplingEngine? _sampling;
    private SamplingEngine.Worker[] _samplingWorkers = [];

    private int _iteration;

    private ReconstructJob(ReconstructRequest request, ILogger log, ParticleDataset data)
    {
        _request = request;
        _log = log;
        _data = data;
        var cfg = request.Config;
        _box = data.BoxSize;
        _apix = data.PixelSize;
        _threads = cfg.Run.Threads > 0 ? cfg.Run.Threads : Environment.ProcessorCount;
        _radiusPx = cfg.Data.ParticleRadius is double r ? r / _apix : cfg.Data.ParticleRadiusFraction * _box / 2.0;
        var projection = ProjectorOptions.Default;
        _projector = new VolumeProjector(_box, projection);
        _rotator = new ImageRotator(_box, projection);
        _transform = _projector.CreateFourierVolume();
        _assembler = new GradientAssembler(_projector);
        // background statistics from the border (pixels farther than D/2 - borderWidthPx from the centre, REFERENCE 1.3),
        // then the circular mask at the particle radius (REFERENCE 1.4)
        _preparation = new ParticlePreparationOptions(_box / 2.0 - cfg.Data.Noise.BorderWidthPx, cfg.Data.InvertContrast,
            MaskRadius: cfg.Data.Mask.Enabled ? _radiusPx : null, MaskSoftEdge: cfg.Data.Mask.SoftEdgePx);
        _plan = new MinibatchPlan(data.Count, cfg.Data.TestSetSizeFor(data.Count), cfg.Data.MinibatchSize, cfg.Run.Seed);
        _bestPose = new Pose?[data.Count];
        _bestProbability = new double[data.Count];
        _reader = new ResilientParticleReader(data.Images, new ReadRetryOptions(), log, i => data.Table[i].Image.ToImageName());
    }

    /// <summary>Runs a reconstruction to its end (convergence, a cap, or cancellation) and writes every output.</summary>
    public static ReconstructResult Run(ReconstructRequest request, ILogger log, Action<RunProgress>? progress = null, CancellationToken cancel = default)
    {
        request.Config.Validate();
        RefuseUnsupported(request.Config, log);
        var data = ParticleDataset.Open(request.ParticlesPath, request.Config.Data.PixelSize, request.DataDir, log);
        using var job = new ReconstructJob(request, log, data);
        return job.Execute(progress, cancel);
    }

    private ReconstructResult Execute(Action<RunProgress>? progress, CancellationToken cancel)
    {
        var cfg = _request.Config;
        var clock = Stopwatch.StartNew();
        _log.Information("{Count} particles, box {Box}, {Apix:G6} Å/px; {Test} held out, {Batches} minibatches of about {Size}; {Threads} threads",
            _data.Count, _box, _apix, _plan.TestSet.Length, _plan.BatchCount, _plan.TrainingCount / _plan.BatchCount, _threads);

        if (_request.BadParticles == BadParticlePolicy.Fail) CheckEveryParticle(cancel);

        string run = _request.OutputDirectory;
        Directory.CreateDirectory(run);
        Directory.CreateDirectory(Path.Combine(run, "iterations"));
        Formats.Star.AtomicFile.Write(Path.Combine(run, "config.json"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(cfg.ToJson())));

        // the held-out set is small and visited often: prepared once and kept
        var test = PrepareAll(_plan.TestSet, cancel);
        if (cfg.ImportanceSampling.Enabled)
        {
            var training = new List<int>(_plan.TrainingCount);
            for (int b = 0; b < _plan.BatchCount; b++) training.AddRange(_plan.Batch(b).ToArray());
            _sampling = new SamplingEngine(cfg.ImportanceSampling, _data.Count, training, Path.Combine(run, "state"), cfg.Run.Seed);
            _samplingWorkers = Enumerable.Range(0, _threads).Select(_ => new SamplingEngine.Worker()).ToArray();
        }
        float[] volume = InitialVolume(test);
        WriteMap(Path.Combine(run, "iterations", "map_000000.mrc"), volume, "CryoFlow random start");
        long trainingCount = _plan.TrainingCount;
        double modelScale = Math.Max(1e-12, volume.Where(v => v > 0).DefaultIfEmpty(1f).Average());
        var prior = cfg.Prior.CreatePrior(_box, trainingCount, modelScale);
        var optimiser = cfg.Optimiser.CreateOptimiser(volume.Length, _plan.BatchCount);
        var priorGradient = new float[volume.Length];
        var dataGradient = new float[volume.Length];

        using var metrics = new MetricsLog(Path.Combine(run, "metrics.jsonl"));
        // the input stops when the run ends, not at the cancel itself: the minibatch in flight completes
        using var feederStop = new CancellationTokenSource();
        var (buffer, feeder) = StartInput(cfg.Run.MaxIterations, feederStop.Token);

        var workers = new ActionBlock<WorkItem>[_threads];
        for (int w = 0; w < _threads; w++)
        {
            int worker = w;
            // not bound to the run's cancellation: a cancel is honoured between iterations, so the
            // minibatch in flight completes and every output is still written
            workers[w] = new ActionBlock<WorkItem>(item => Marginalise(worker, item),
                new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = 1 });
        }

        double bestTestNll = double.PositiveInfinity;
        int sinceImprovement = 0;
        StopReason reason = StopReason.MaxIterations;
        long it = 0;
        double? lastTestNll = null;
        try
        {
            for (it = 1; it <= cfg.Run.MaxIterations; it++)
            {
                if (cancel.IsCancellationRequested) { reason = StopReason.Cancelled; break; }
                if (cfg.Run.TimeLimitMinutes is double limit && clock.Elapsed.TotalMinutes >= limit) { reason = StopReason.TimeLimit; break; }
                var iterationClock = Stopwatch.StartNew();
                int tau = (int)(it - 1);
                bool changed = EnterStage(cfg.Resolution.MaxFrequencyAt(tau, _apix), tau);
                _sampling?.BeginIteration();
                _iteration = (int)it;
                _projector.Transform(volume, _transform);
                _slices!.Update(_projector, _transform, _threads);

                double? testNll = null, testRremse = null;
                if (it == 1 || tau % cfg.Evaluation.TestEvery == 0 || (changed && cfg.Evaluation.TestOnResolutionChange))
                {
                    (testNll, testRremse) = EvaluateTest(test, workers);
                    lastTestNll = testNll;
                    bool atCeiling = _maxFrequency >= cfg.Resolution.CeilingFrequency(_apix) - 1e-12
                        || _maxFrequency >= cfg.Resolution.MaxFrequency.At(int.MaxValue / 2) - 1e-12;
                    if (testNll < bestTestNll - cfg.Resolution.Stop.MinDelta) { bestTestNll = testNll.Value; sinceImprovement = 0; }
                    else if (atCeiling) sinceImprovement++;
                    if (!atCeiling) { sinceImprovement = 0; bestTestNll = Math.Min(bestTestNll, testNll.Value); }
                }

                int batch = _plan.BatchAt(it);
                var items = TakeBatch(buffer, _plan.Batch(batch).Length, it, feederStop.Token);
                var totals = RunBatch(items, workers, withGradient: true, recordPose: true, out _);
                if (totals.Particles == 0)
                {
                    _log.Warning("Iteration {It}: every particle of minibatch {Batch} was rejected; skipping the step", it, batch);
                    Release(items);
                    continue;
                }
                _assembler.Assemble(_slices, _gradients, GradientScaling.PerImageMean, dataGradient);
                for (int i = 0; i < dataGradient.Length; i++) dataGradient[i] = -dataGradient[i]; // LL ascent -> NLL descent
                double priorValue = prior.ValueAndGradient(volume, priorGradient);
                double objective = -totals.MeanLogLikelihood + priorValue;
                var step = optimiser.Step(new OptimiserContext
                {
                    Iteration = tau,
                    Batch = batch,
                    Volume = volume,
                    DataGradient = dataGradient,
                    PriorGradient = priorGradient,
                    Objective = objective,
                    ObjectiveAt = point => BatchObjective(point, items, workers, prior),
                    MaxFrequencyChanged = changed,
                    BandRadius = _slices.Disc.Radius,
                    ShellPreconditioner = ShellScales(test),
                });
                Release(items);
                _sampling?.Commit();
                var fractions = _sampling?.Fractions() ?? (1, 1, 1, 1);
                if (!double.IsFinite(objective) || volume.Any(v => !float.IsFinite(v)))
                    throw new InvalidOperationException($"iteration {it}: the objective or the density became non-finite (objective {objective}); lower optimiser.stepScale");

                double seconds = iterationClock.Elapsed.TotalSeconds;
                var line = new IterationMetrics
                {
                    Iteration = it,
                    WallSeconds = clock.Elapsed.TotalSeconds,
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
                    Rejected = _rejected.Count,
                };
                metrics.Append(line);
                progress?.Invoke(new RunProgress(it, cfg.Run.MaxIterations, 1 / _maxFrequency, objective, lastTestNll, line.ParticlesPerSecond, clock.Elapsed, $"stage {_stage}"));
                if (cfg.Output.MapEvery > 0 && it % cfg.Output.MapEvery == 0)
                    WriteMap(Path.Combine(run, "iterations", $"map_{it:D6}.mrc"), volume, $"CryoFlow iteration {it}");
                if (sinceImprovement >= cfg.Resolution.Stop.Patience) { reason = StopReason.Converged; it++; break; }
            }
        }
        finally
        {
            feederStop.Cancel();
        }
        long done = it - 1;
        _log.Information("Stopped after {It} iterations ({Reason}) at {Res:F1} Å", done, reason, 1 / _maxFrequency);

        // final poses for the held-out particles too, with the final volume
        _projector.Transform(volume, _transform);
        _slices!.Update(_projector, _transform, _threads);
        EvaluateTest(test, workers);
        Release(test);
        foreach (var w in workers) w.Complete();

        string map = Path.Combine(run, "map.mrc");
        WriteMap(map, volume, "CryoFlow ab-initio map");
        string star = Path.Combine(run, "particles.star");
        WriteParticles(star);
        _rejected.Write(Path.Combine(run, "rejected.star"), _data.Table);
        Report.RunReport.TryWrite(run, null, _log); // RUN/report.html; a failure is logged, never fatal
        try { feeder.Wait(TimeSpan.FromSeconds(10)); }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException)) { }
        return new ReconstructResult(map, star, done, reason, clock.Elapsed.TotalSeconds, _rejected.Count, _maxFrequency);
    }

    /// <summary>
    /// Settings this version cannot honour are refused, never silently ignored: a run that asks for them stops before
    /// it starts, naming the key.
    /// </summary>
    private static void RefuseUnsupported(Configuration.ReconstructConfig cfg, ILogger log)
    {
        var issues = new List<Configuration.ConfigIssue>();
        void Unsupported(bool asked, string path, string what) { if (asked) issues.Add(new(path, $"{what} is not supported yet")); }
        Unsupported(!string.Equals(cfg.Quadrature.Symmetry, "C1", StringComparison.OrdinalIgnoreCase), "quadrature.symmetry", $"symmetry {cfg.Quadrature.Symmetry} (only C1)");
        Unsupported(cfg.Data.WorkingBox.Policy != Configuration.WorkingBoxPolicy.None, "data.workingBox.policy", "Fourier cropping to a working box");
        Unsupported(cfg.Data.Noise.Estimator != Configuration.NoiseEstimator.Mad, "data.noise.estimator", "a noise estimator other than mad");
        Unsupported(cfg.Data.Noise.Scope != Configuration.NoiseScope.Particle, "data.noise.scope", "a noise sigma pooled over the dataset");
        Unsupported(!cfg.Data.Noise.SubtractBackground, "data.noise.subtractBackground", "keeping the background mean");
        if (issues.Count > 0) throw new Configuration.ConfigException(issues);
        log.Information("Checkpoints are not written by this version (output.checkpoint is recorded in config.json only); a stopped run starts again from the beginning");
    }

    // ------------------------------------------------------------------ quadrature stages

    /// <summary>Moves to the quadrature of a new maximum frequency when it changed; true if it did.</summary>
    private bool EnterStage(double maxFrequency, int tau)
    {
        if (maxFrequency == _maxFrequency) return false;
        var cfg = _request.Config;
        _stage++;
        _maxFrequency = maxFrequency;
        var q = cfg.Quadrature;
        var level = Numerics.Quadrature.QuadratureLevel.Create(new Numerics.Quadrature.QuadratureSpec(_box, _apix, maxFrequency)
        {
            UndersampleDirections = q.UndersampleDirections.At(_stage),
            UndersampleInPlane = q.UndersampleInPlane.At(_stage),
            UndersampleShifts = q.UndersampleShifts.At(_stage),
            ShiftSamplesPerPeriod = q.ShiftSamplesPerPeriod,
            ShiftSigmaAngst = q.ShiftSigma,
            ShiftExtentAngst = q.ShiftExtent,
            ShiftRule = q.ShiftRule,
        });
        _grid = PoseGrid.FromQuadrature(level);
        _sampling?.EnterLevel(level, _stage);
        double radius = Math.Min(maxFrequency * _box * _apix, _box / 2.0);
        _slices = new SliceSet(new Numerics.Fourier.FourierDisc(_box, radius), level.DirectionAngles);
        foreach (var m in _marginalisers) m.Dispose();
        var capacity = ParticleMarginaliser.CapacityFor(_slices, _grid.InPlaneCount, _grid.ShiftCount);
        _marginalisers = Enumerable.Range(0, _threads).Select(_ => new ParticleMarginaliser(_rotator, capacity)).ToArray();
        _gradients = Enumerable.Range(0, _threads).Select(_ => new SliceGradient(_slices)).ToArray();
        _log.Information("Iteration {It}: max frequency {F:F4} 1/Å ({Res:F1} Å, r* {R:F1} px): {D} directions x {P} in-plane x {T} shifts = {N:N0} poses, {K} Fourier points",
            tau + 1, maxFrequency, 1 / maxFrequency, radius, _grid.DirectionCount, _grid.InPlaneCount, _grid.ShiftCount, _grid.PoseCount, _slices.Points);
        return true;
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

    // ------------------------------------------------------------------ input: feeder -> read -> prepare -> buffer

    private sealed record ReadMessage(long Iteration, int Particle)
    {
        public override string ToString() => $"particle {Particle} (iteration {Iteration})";
    }

    private sealed record RawMessage(long Iteration, int Particle, float[]? Pixels, string? Rejection)
    {
        public override string ToString() => $"particle {Particle} (iteration {Iteration})";
    }

    /// <summary>A prepared particle (or its rejection) on its way through the pipeline.</summary>
    private sealed record PreparedMessage(long Iteration, int Particle, PreparedParticle? Prepared, string? Rejection)
    {
        public override string ToString() => $"particle {Particle} (iteration {Iteration})";
    }

    private (BufferBlock<PreparedMessage> Buffer, Task Feeder) StartInput(long maxIterations, CancellationToken cancel)
    {
        int ahead = 2 * _request.Config.Data.MinibatchSize;
        var read = new TransformBlock<ReadMessage, RawMessage>(m =>
        {
            var pixels = _pixelPool.TryTake(out var p) ? p : new float[_box * _box];
            var outcome = _reader.Read(m.Particle, pixels);
            return new RawMessage(m.Iteration, m.Particle, pixels, outcome.Rejection);
        }, new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = _threads, BoundedCapacity = ahead, EnsureOrdered = true, CancellationToken = cancel });
        var prepare = new TransformBlock<RawMessage, PreparedMessage>(m => Prepare(m),
            new ExecutionDataflowBlockOptions { MaxDegreeOfParallelism = _threads, BoundedCapacity = ahead, EnsureOrdered = true, CancellationToken = cancel });
        var buffer = new BufferBlock<PreparedMessage>(new DataflowBlockOptions { BoundedCapacity = ahead, CancellationToken = cancel });
        read.LinkTo(prepare, new DataflowLinkOptions { PropagateCompletion = true });
        prepare.LinkTo(buffer, new DataflowLinkOptions { PropagateCompletion = true });
        var feeder = Task.Run(async () =>
        {
            try
            {
                for (long it = 1; it <= maxIterations; it++)
                    foreach (int p in _plan.Batch(_plan.BatchAt(it)).ToArray())
                        if (!await read.SendAsync(new ReadMessage(it, p), cancel).ConfigureAwait(false)) return;
            }
            finally
            {
                read.Complete();
            }
        }, cancel);
        return (buffer, feeder);
    }

    private PreparedMessage Prepare(RawMessage m)
    {
        try
        {
            if (m.Rejection is not null) return new PreparedMessage(m.Iteration, m.Particle, null, m.Rejection);
            var preparer = _preparers.TryTake(out var p) ? p : new ParticlePreparer(_rotator, _preparation);
            var particle = _particlePool.TryTake(out var q) ? q : preparer.CreateParticle();
            try
            {
                var status = preparer.TryPrepare(m.Pixels, _apix, _data.CtfOf(m.Particle), particle);
                if (status == PreparationStatus.Ok) return new PreparedMessage(m.Iteration, m.Particle, particle, null);
                _particlePool.Add(particle);
                return new PreparedMessage(m.Iteration, m.Particle, null, $"{_data.Table[m.Particle].Image.ToImageName()}: {Describe(status)}");
            }
            finally
            {
                _preparers.Add(preparer);
            }
        }
        finally
        {
            if (m.Pixels is not null) _pixelPool.Add(m.Pixels);
        }
    }

    private static string Describe(PreparationStatus s) => s switch
    {
        PreparationStatus.NonFinitePixel => "a pixel is NaN or infinite",
        PreparationStatus.TooFewBackgroundPixels => "too few background pixels outside the particle radius to estimate the noise",
        PreparationStatus.ZeroBackgroundNoise => "the background has zero noise (a constant border)",
        _ => s.ToString(),
    };

    private List<PreparedMessage> TakeBatch(BufferBlock<PreparedMessage> buffer, int count, long iteration, CancellationToken cancel)
    {
        var items = new List<PreparedMessage>(count);
        while (items.Count < count)
        {
            var m = buffer.ReceiveAsync(cancel).GetAwaiter().GetResult();
            if (m.Iteration != iteration)
                throw new InvalidOperationException($"input out of step: expected iteration {iteration}, got {m}");
            if (m.Rejection is not null) Reject(m.Particle, m.Rejection);
            items.Add(m);
        }
        return items;
    }

    private void Reject(int particle, string reason)
    {
        if (_rejected.Add(particle, reason)) _log.Warning("Rejected {Reason}", reason);
    }

    private void Release(List<PreparedMessage> items)
    {
        foreach (var m in items)
            if (m.Prepared is not null) _particlePool.Add(m.Prepared);
    }

    /// <summary>Reads and prepares particles outside the streaming pipeline (the held-out set), in parallel.</summary>
    private List<PreparedMessage> PrepareAll(IReadOnlyList<int> particles, CancellationToken cancel)
    {
        var result = new PreparedMessage[particles.Count];
        Parallel.For(0, particles.Count, new ParallelOptions { MaxDegreeOfParallelism = _threads, CancellationToken = cancel }, i =>
        {
            var pixels = new float[_box * _box];
            var outcome = _reader.Read(particles[i], pixels);
            result[i] = Prepare(new RawMessage(0, particles[i], pixels, outcome.Rejection));
        });
        foreach (var m in result)
            if (m.Rejection is not null) Reject(m.Particle, m.Rejection);
        return [.. result];
    }

    /// <summary>--on-bad-particle fail: every particle read and prepared before anything is written.</summary>
    private void CheckEveryParticle(CancellationToken cancel)
    {
        var preparer = new ParticlePreparer(_rotator, _preparation);
        var particle = preparer.CreateParticle();
        var pixels = new float[_box * _box];
        for (int i = 0; i < _data.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var outcome = _reader.Read(i, pixels);
            if (outcome.Rejection is not null)
                throw new CryoFlowDataException(outcome.Rejection, _data.Table.ImageLocation(i));
            var status = preparer.TryPrepare(pixels, _apix, _data.CtfOf(i), particle);
            if (status != PreparationStatus.Ok)
                throw new CryoFlowDataException(Describe(status), _data.Table.ImageLocation(i));
        }
    }

    // ------------------------------------------------------------------ marginalisation

    /// <summary>One particle for one worker; the batch's countdown says when all are done.</summary>
    private sealed record WorkItem(PreparedMessage Message, bool Gradient, BatchCountdown Countdown, bool RecordPose)
    {
        public override string ToString() => Message.ToString();
    }

    private sealed class BatchCountdown
    {
        private int _left;
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public BatchCountdown(int count)
        {
            _left = count;
            if (count == 0) _done.SetResult();
        }

        private double _llSum, _errorSum, _outOfBand;
        private readonly Lock _lock = new();

        public Task Done => _done.Task;

        public double LogLikelihoodSum { get { lock (_lock) return _llSum; } }

        public double SquaredErrorSum { get { lock (_lock) return _errorSum + _outOfBand; } }

        public void Signal(double ll, double error, double outOfBand)
        {
            lock (_lock) { _llSum += ll; _errorSum += error; _outOfBand += outOfBand; }
            if (Interlocked.Decrement(ref _left) == 0) _done.SetResult();
        }

    }

    private void Marginalise(int worker, WorkItem item)
    {
        var prepared = item.Message.Prepared!;
        MarginalResult result;
        if (_sampling is null)
        {
            result = _marginalisers[worker].Evaluate(prepared, _slices!, _grid!.AsSubset(), item.Gradient ? _gradients[worker] : null);
        }
        else
        {
            var sw = _samplingWorkers[worker];
            var subset = _sampling.Sample(sw, item.Message.Particle, _iteration);
            result = _marginalisers[worker].Evaluate(prepared, _slices!, subset, item.Gradient ? _gradients[worker] : null, _sampling.Outputs(sw));
            // the first evaluation of the iteration records the posterior; line-search evaluations reuse the same samples
            if (item.RecordPose) _sampling.Record(sw, item.Message.Particle, _iteration);
        }
        if (item.RecordPose)
        {
            _bestPose[item.Message.Particle] = result.BestPose;
            _bestProbability[item.Message.Particle] = result.BestProbability;
        }
        double outOfBand = prepared.TotalEnergy - prepared.EnergyWithin(_slices!.Disc.Radius);
        item.Countdown.Signal(result.LogLikelihood, result.ExpectedSquaredError, outOfBand);
    }

    /// <summary>Marginalises the valid particles of a batch on the worker blocks; returns (particles, LL sum) and the summed squared error.</summary>
    private MinibatchTotals RunBatch(List<PreparedMessage> items, ActionBlock<WorkItem>[] workers, bool withGradient, bool recordPose, out double squaredErrorSum)
    {
        if (withGradient) foreach (var g in _gradients) g.Clear();
        var valid = items.Where(m => m.Prepared is not null).ToList();
        var countdown = new BatchCountdown(valid.Count);
        for (int i = 0; i < valid.Count; i++)
            if (!workers[i % workers.Length].Post(new WorkItem(valid[i], withGradient, countdown, recordPose)))
                throw new InvalidOperationException("a marginalisation worker stopped");
        var faulted = Task.WhenAny(workers.Select(w => w.Completion));
        var first = Task.WhenAny(countdown.Done, faulted).GetAwaiter().GetResult();
        if (first != countdown.Done)
        {
            var failed = workers.First(w => w.Completion.IsCompleted).Completion;
            failed.GetAwaiter().GetResult(); // rethrows the worker's exception
            throw new OperationCanceledException("marginalisation stopped");
        }
        squaredErrorSum = countdown.SquaredErrorSum;
        return new MinibatchTotals(valid.Count, countdown.LogLikelihoodSum);
    }

    /// <summary>The minibatch objective at a trial density (line search): same particles, likelihood only.</summary>
    private double BatchObjective(ReadOnlySpan<float> point, List<PreparedMessage> items, ActionBlock<WorkItem>[] workers, IDensityPrior prior)
    {
        _projector.Transform(point, _transform);
        _slices!.Update(_projector, _transform, _threads);
        var totals = RunBatch(items, workers, withGradient: false, recordPose: false, out _);
        return -totals.MeanLogLikelihood + prior.Value(point);
    }

    /// <summary>Mean NLL and RREMSE of the held-out set at the current slices (and their best poses).</summary>
    private (double Nll, double Rremse) EvaluateTest(List<PreparedMessage> test, ActionBlock<WorkItem>[] workers)
    {
        var totals = RunBatch(test, workers, withGradient: false, recordPose: true, out double squaredError);
        double n = Math.Max(1, totals.Particles);
        return (-totals.LogLikelihoodSum / n, Math.Sqrt(squaredError / n / ((double)_box * _box)));
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
        var start = new RandomStartOptions { Seed = cfg.Run.Seed, ParticleRadius = _radiusPx };
        var volume = RandomStart.Create(_box, start);
        var ok = sample.Where(m => m.Prepared is not null).Select(m => m.Prepared!).ToList();
        double pixels = (double)_box * _box;
        double signal = ok.Count == 0 ? 0.05 : ok.Average(p => Math.Max(0, p.TotalEnergy / pixels - 1) * p.NoiseSigma * p.NoiseSigma);
        signal = Math.Max(signal, 1e-6);
        var renderer = new Numerics.Simulation.ParticleRenderer(volume, _box, _apix);
        var ws = renderer.CreateWorkspace();
        var image = new float[_box * _box];
        double power = 0;
        var rng = new Random(cfg.Run.Seed);
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
        _log.Information("Random start: {Spheres} spheres inside {Radius:F1} px, scaled by {Scale:G3} to a signal power of {Signal:G3}", start.SphereCount, _radiusPx, scale, signal);
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

    private void WriteParticles(string path)
    {
        var table = _data.Table;
        var poses = new Pose[table.Count];
        var probability = new double[table.Count];
        for (int i = 0; i < poses.Length; i++)
        {
            poses[i] = _bestPose[i] ?? table[i].Pose ?? default;
            probability[i] = _bestPose[i] is null ? 0 : _bestProbability[i];
        }
        ParticleStarWriter.Write(path, table, [.. ParticleColumn.FromPoses(poses), ParticleColumn.FromDoubles(RelionLabels.MaxValueProbDistribution, probability)]);
    }

    public void Dispose()
    {
        _sampling?.Dispose();
        foreach (var m in _marginalisers) m.Dispose();
        _data.Dispose();
    }
}
