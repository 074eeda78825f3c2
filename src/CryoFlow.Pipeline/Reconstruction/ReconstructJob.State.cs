using System.Diagnostics;
using System.Runtime;
using System.Text.Json;
using CryoFlow.Formats.Checkpoints;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.State;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Optimisation;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Output;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>The run's state: a fresh start, checkpoints, resuming from one, and rolling back to one.</summary>
public sealed partial class ReconstructJob
{
    /// <summary>The report is rewritten at a checkpoint at most this often (it reads the whole run folder).</summary>
    private static readonly TimeSpan ReportInterval = TimeSpan.FromMinutes(1);

    private string StateDirectory(string store) => Path.Combine(_run, "state", store);

    private string MetricsPath => Path.Combine(_run, "metrics.jsonl");

    private string PosesPath => Path.Combine(_run, "state", "poses.bin");

    /// <summary>
    /// Reads the checkpoint to resume and refuses it, before anything is written, when it belongs to another dataset or
    /// its configuration differs in a key that changes the result (unless allowed); every difference is logged.
    /// </summary>
    private (CheckpointEntry Entry, CheckpointContents Contents, CheckpointMeta Meta) OpenCheckpoint(CheckpointEntry entry)
    {
        var (contents, meta) = RunCheckpoint.Read(entry);
        if (meta.LiveBatchCount is not null)
            throw new ConfigException(new ConfigIssue("--watch", "the checkpoint is of a live (--watch) run, which cannot be resumed: its pool of particles is not kept. "
                + "Its outputs up to the checkpoint are in the run folder; --restart starts a new run", entry.Path));
        if (meta.ParticleCount != _data.Count || meta.BoxSize != _box)
            throw new CheckpointFormatException("the checkpoint is of another dataset", new DataLocation(FilePath: contents.Path, Field: "particleCount, boxSize",
                Expected: $"{_data.Count} particles of box {_box} ({_request.ParticlesPath})", Found: $"{meta.ParticleCount} of box {meta.BoxSize} ({meta.ParticlesPath})"));
        if (meta.CodeVersion != RunCheckpoint.CodeVersion)
            _log.Warning("The checkpoint was written by CryoFlow {Then}, this is {Now}: the resumed run may differ from one never stopped", meta.CodeVersion, RunCheckpoint.CodeVersion);
        var cfg = _request.Config;
        if (meta.ConfigHash != cfg.ConfigHash())
        {
            var changes = ConfigDifferences.Between(ReconstructConfig.FromJson(meta.Config, contents.Path), cfg);
            var result = changes.Where(ConfigDifferences.ChangesResult).ToList();
            foreach (var c in changes.Except(result)) _log.Information("Resuming with a changed setting: {Change}", c.ToString());
            if (result.Count > 0)
            {
                if (!_request.AllowConfigChange)
                    throw new ConfigException(result.Select(c => new ConfigIssue(c.Path,
                        $"differs from the checkpoint's ({c.Before} -> {c.After}); resuming would not continue the same run: give --allow-config-change to resume anyway, or --restart to start over",
                        entry.Path)).ToList());
                foreach (var c in result) _log.Warning("Resuming with a changed setting (--allow-config-change): {Change}", c.ToString());
            }
        }
        return (entry, contents, meta);
    }

    /// <summary>A fresh run: the start density, empty stores, metrics.jsonl started anew, and the checkpoint of iteration 0.</summary>
    private void Start(List<PreparedMessage> test, Stopwatch session)
    {
        var cfg = _request.Config;
        _volume = InitialVolume(test);
        WriteMap(Path.Combine(_run, "iterations", "map_000000.mrc"), _volume, "CryoFlow random start");
        _modelScale = Math.Max(1e-12, _volume.Where(v => v > 0).DefaultIfEmpty(1f).Average());
        CreateOptimisation(historySnapshot: null);
        CreateSampling(snapshot: null);
        _poses?.Dispose();
        _poses = PoseStore.Create(PosesPath, _data.Count);
        (_keptIteration, _keptTestNll, _keptVolume) = (null, double.PositiveInfinity, null);
        _metrics = new MetricsLog(MetricsPath, append: false);
        foreach (var old in _checkpoints.DeleteAfter(-1))
            _log.Information("Deleted the checkpoint {Path} of an earlier run in this folder", old.Path);
        _log.Information("Checkpoints in {Folder}: every {N} iterations and every {T} minutes, the newest {K} kept", _checkpoints.Root,
            cfg.Output.Checkpoint.EveryIterations, cfg.Output.Checkpoint.EveryMinutes, cfg.Output.Checkpoint.Keep);
        WriteCheckpoint(session, report: false);
    }

    /// <param name="historySnapshot">a checkpoint's SAGD history, or null for an empty one</param>
    /// <param name="snapshotBatches">the minibatches the snapshot holds (fewer than the plan's when a live run's plan grew since)</param>
    private void CreateOptimisation(string? historySnapshot, int? snapshotBatches = null)
    {
        var cfg = _request.Config;
        int length = _volume.Length;
        _prior = cfg.Prior.CreatePrior(_box, _plan.TrainingCount, _modelScale);
        _priorGradient = new float[length];
        _dataGradient = new float[length];
        _history?.Dispose();
        _history = null;
        if (cfg.Optimiser.Kind == OptimiserKind.Sagd)
        {
            string dir = StateDirectory("history");
            _history = historySnapshot is null ? DiskGradientHistory.Create(dir, _plan.BatchCount, _box)
                : DiskGradientHistory.Open(historySnapshot, dir, snapshotBatches ?? _plan.BatchCount, _box);
        }
        _optimiser = cfg.Optimiser.CreateOptimiser(length, _history?.BatchCount ?? _plan.BatchCount, _history, _apix);
    }

    private void CreateSampling(string? snapshot)
    {
        var cfg = _request.Config;
        _sampling?.Dispose();
        _sampling = null;
        if (!cfg.ImportanceSampling.Enabled) return;
        var training = new List<int>(_plan.TrainingCount);
        for (int b = 0; b < _plan.BatchCount; b++) training.AddRange(_plan.Batch(b).ToArray());
        _sampling = new SamplingEngine(cfg.ImportanceSampling, _data.Count, training, StateDirectory("sampling"), cfg.Run.Seed, snapshot);
        _samplingWorkers = Enumerable.Range(0, _threads).Select(_ => new SamplingEngine.Worker()).ToArray();
    }

    /// <summary>
    /// Puts the run in the state of a checkpoint: volume, optimiser and its stores, stages and importance sampling, poses,
    /// rejections, stop rule; metrics.jsonl is cut back to the checkpoint and later checkpoints are deleted.
    /// </summary>
    /// <param name="resuming">a new session (the run's clock, rollbacks and step multiplier come from the checkpoint);
    /// false for a rollback within this session</param>
    private void Restore(CheckpointEntry entry, CheckpointContents contents, CheckpointMeta meta, Stopwatch session, bool resuming)
    {
        var cfg = _request.Config;
        int length = _box * _box * _box;
        _done = meta.Iteration;
        _iteration = (int)meta.Iteration;
        _volume = contents.Floats(RunCheckpoint.VolumeSection, length);
        _modelScale = meta.ModelScale;
        CreateOptimisation(File.Exists(entry.File(RunCheckpoint.HistoryFile)) ? entry.File(RunCheckpoint.HistoryFile) : null, meta.LiveBatchCount);
        RestoreOptimiser(contents, meta.Optimiser);
        (_optimiser as SagdOptimiser)?.Grow(_plan.BatchCount); // a live run rolled back past a growth of its plan: the new minibatches unseen
        CreateSampling(File.Exists(entry.File(RunCheckpoint.SamplingFile)) ? entry.File(RunCheckpoint.SamplingFile) : null);

        // the stages entered so far, replayed so that importance-sampling states recorded on earlier levels stay usable
        _stage = -1;
        _maxFrequency = double.NaN;
        _stageFrequencies.Clear();
        for (int s = 0; s < meta.StageFrequencies.Count; s++)
        {
            double f = meta.StageFrequencies[s];
            var level = CreateLevel(f, s);
            _sampling?.EnterLevel(level, s);
            _stageFrequencies.Add(f);
            if (s == meta.StageFrequencies.Count - 1) ApplyStage(level, f, s);
        }
        if (_stage != meta.Stage)
            throw new CheckpointFormatException("the checkpoint's stage does not match its stage frequencies", new DataLocation(FilePath: contents.Path, Field: "stage",
                Expected: $"{meta.StageFrequencies.Count - 1}", Found: $"{meta.Stage}"));
        if (_sampling is not null && _stage >= 0)
            _sampling.ImportGlobals(Enumerable.Range(0, meta.GlobalWeights.Count)
                .Select(f => (contents.Doubles($"sampling.global.{f}"), meta.GlobalWeights[f])).ToArray());

        RestorePoses(entry, contents, meta.ParticleCount);
        RestoreKept(entry, contents, meta);
        foreach (var r in meta.Rejected) _rejected.Add(r.Particle, r.Reason);
        _bestTestNll = meta.BestTestNll;
        _sinceImprovement = meta.SinceImprovement;
        _lastTestNll = meta.LastTestNll;
        _bestObjective = meta.BestObjective;
        if (resuming)
        {
            _elapsedBefore = meta.ElapsedSeconds;
            _rollbacks = meta.Rollbacks;
        }

        _metrics?.Dispose();
        try
        {
            if (MetricsLog.Truncate(MetricsPath, meta.MetricsBytes))
                _log.Information("metrics.jsonl cut back to the checkpoint's iteration {It}", meta.Iteration);
        }
        catch (InvalidDataException e)
        {
            _log.Warning("{Problem}; its lines before the checkpoint are lost, new ones are appended", e.Message);
        }
        _metrics = new MetricsLog(MetricsPath, append: true);
        foreach (var newer in _checkpoints.DeleteAfter(meta.Iteration))
            _log.Information("Deleted the checkpoint {Path}, newer than the one continued from", newer.Path);
        _checkpointedAt = meta.Iteration;
        _lastCheckpoint = session.Elapsed;
    }

    /// <summary>
    /// After a divergence: back to the newest checkpoint known to be good, with the step multiplied by
    /// <see cref="RollbackStepFactor"/>, so nothing non-finite or exploded is ever checkpointed or written as a map.
    /// </summary>
    /// <exception cref="ReconstructionDivergedException">too many rollbacks, or no good checkpoint</exception>
    private void RollBack(Divergence divergence, Stopwatch session)
    {
        double multiplier = _optimiser!.StepMultiplier * RollbackStepFactor;
        if (++_rollbacks > MaxRollbacks)
            throw new ReconstructionDivergedException($"iteration {divergence.Iteration}: {divergence.Problem}, after {MaxRollbacks} rollbacks with ever smaller steps; " +
                "nothing was written. Lower optimiser.stepScale and start again (--restart)");
        foreach (var candidate in _checkpoints.List().Where(c => c.Iteration <= divergence.LastGood))
        {
            CheckpointContents contents;
            CheckpointMeta meta;
            try
            {
                (contents, meta) = RunCheckpoint.Read(candidate);
            }
            catch (Exception e) when (e is CryoFlowDataException or IOException)
            {
                _log.Warning("Checkpoint {Path} cannot be used: {Error}", candidate.Path, e.Message);
                continue;
            }
            _log.Warning("Iteration {It}: {Problem}; rolling back to the checkpoint after iteration {Good} and continuing with steps x{Multiplier:G3} (rollback {N} of at most {Max})",
                divergence.Iteration, divergence.Problem, candidate.Iteration, multiplier, _rollbacks, MaxRollbacks);
            Restore(candidate, contents, meta, session, resuming: false);
            _optimiser!.StepMultiplier = multiplier;
            return;
        }
        throw new ReconstructionDivergedException($"iteration {divergence.Iteration}: {divergence.Problem}, and no checkpoint at or before iteration " +
            $"{divergence.LastGood} is left to roll back to; nothing was written. Lower optimiser.stepScale and start again (--restart)");
    }

    /// <summary>Writes the checkpoint of the state after <see cref="_done"/> iterations, prunes old ones, and refreshes the report now and then.</summary>
    /// <exception cref="CheckpointWriteException">it could not be written; the earlier ones are intact</exception>
    private void WriteCheckpoint(Stopwatch session, bool report)
    {
        var cfg = _request.Config;
        var globals = _sampling is not null && _stage >= 0 ? _sampling.ExportGlobals() : [];
        var meta = new CheckpointMeta
        {
            CodeVersion = RunCheckpoint.CodeVersion,
            Written = DateTimeOffset.UtcNow,
            ConfigHash = cfg.ConfigHash(),
            Config = cfg.ToJson(),
            Arguments = _request.Arguments,
            ParticlesPath = Path.GetFullPath(_request.ParticlesPath),
            ParticleCount = _data.Count,
            BoxSize = _box,
            Random = new RandomState(cfg.Run.Seed),
            Iteration = _done,
            Stage = _stage,
            StageFrequencies = [.. _stageFrequencies],
            BestTestNll = _bestTestNll,
            SinceImprovement = _sinceImprovement,
            LastTestNll = _lastTestNll,
            BestObjective = _bestObjective,
            ElapsedSeconds = _elapsedBefore + session.Elapsed.TotalSeconds,
            MetricsBytes = _metrics!.Length,
            ModelScale = _modelScale,
            Optimiser = SaveOptimiserMeta(),
            Rollbacks = _rollbacks,
            GlobalWeights = globals.Select(g => g.Weight).ToArray(),
            Rejected = _rejected.Snapshot().Select(r => new RejectedEntry(r.Particle, r.Reason)).ToArray(),
            LiveBatchCount = _live is null ? null : _plan.BatchCount,
            KeptIteration = _keptIteration,
            KeptTestNll = _keptIteration is null ? null : _keptTestNll,
        };
        var clock = Stopwatch.StartNew();
        var written = _checkpoints.Write(_done, draft =>
        {
            _history?.Snapshot(draft.Create(RunCheckpoint.HistoryFile), RunCheckpoint.HistoryFile);
            _sampling?.Snapshot(draft.Create(RunCheckpoint.SamplingFile), RunCheckpoint.SamplingFile);
            _poses!.Snapshot(draft.Create(RunCheckpoint.PosesFile));
            if (_keptIteration is not null)
            {
                using var kept = File.OpenRead(KeptPosesPath);
                kept.CopyTo(draft.Create(RunCheckpoint.KeptPosesFile));
            }
            var w = new CheckpointWriter(draft.Create(RunCheckpoint.MainFile));
            w.AddText(RunCheckpoint.MetaSection, JsonSerializer.Serialize(meta, RunCheckpoint.Json));
            w.AddFloats(RunCheckpoint.VolumeSection, _volume);
            if (_keptVolume is not null && _keptIteration is not null) w.AddFloats(RunCheckpoint.KeptVolumeSection, _keptVolume);
            SaveOptimiserArrays(w);
            for (int f = 0; f < globals.Count; f++) w.AddDoubles($"sampling.global.{f}", globals[f].Sum);
            w.Complete();
        });
        foreach (var old in _checkpoints.Prune(cfg.Output.Checkpoint.Keep, c => c.Iteration == 0))
            _log.Debug("Deleted the old checkpoint {Path}", old.Path);
        _log.Debug("Checkpoint {Path} in {Seconds:F2} s", written.Path, clock.Elapsed.TotalSeconds);
        _checkpointedAt = _done;
        _lastCheckpoint = session.Elapsed;
        // a quiet point: objects that lived through an iteration reach the oldest generation, which the GC collects only
        // when it must; collect them here so the resident set follows what is live instead of creeping up
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        if (report && (_lastReport is not TimeSpan last || session.Elapsed - last >= ReportInterval))
        {
            Report.RunReport.TryWrite(_run, null, _log);
            _lastReport = session.Elapsed;
        }
    }

    private OptimiserMeta SaveOptimiserMeta()
    {
        var l = (_optimiser as LipschitzStepOptimiser)?.Lipschitz;
        return new OptimiserMeta(_request.Config.Optimiser.Kind.ToString(), l?.Value, l?.LastSearch, l?.LastUpdate, _optimiser!.StepMultiplier);
    }

    private void SaveOptimiserArrays(CheckpointWriter w)
    {
        switch (_optimiser)
        {
            case SagdOptimiser s:
                w.AddFloats("optimiser.sum", s.History.Sum);
                w.AddDoubles("optimiser.weights", s.History.Weights);
                w.AddDoubles("optimiser.bands", s.Bands);
                break;
            case MomentumOptimiser m:
                w.AddFloats("optimiser.velocity", m.Velocity);
                break;
            case NesterovOptimiser n:
                w.AddFloats("optimiser.velocity", n.Velocity);
                break;
            case AdaGradOptimiser a:
                w.AddFloats("optimiser.squares", a.SquaredGradientSum);
                break;
        }
    }

    private void RestoreOptimiser(CheckpointContents c, OptimiserMeta meta)
    {
        if (meta.Kind != _request.Config.Optimiser.Kind.ToString())
            throw new CheckpointFormatException("the checkpoint is of another optimiser", new DataLocation(FilePath: c.Path, Field: "optimiser.kind",
                Expected: _request.Config.Optimiser.Kind.ToString(), Found: meta.Kind));
        int length = _volume.Length;
        switch (_optimiser)
        {
            case SagdOptimiser s:
                c.Floats("optimiser.sum", length).CopyTo(s.History.Sum);
                c.Doubles("optimiser.weights", s.History.BatchCount).CopyTo(s.History.Weights);
                c.Doubles("optimiser.bands", s.History.BatchCount).CopyTo(s.Bands);
                break;
            case MomentumOptimiser m:
                c.Floats("optimiser.velocity", length).CopyTo(m.Velocity);
                break;
            case NesterovOptimiser n:
                c.Floats("optimiser.velocity", length).CopyTo(n.Velocity);
                break;
            case AdaGradOptimiser a:
                c.Floats("optimiser.squares", length).CopyTo(a.SquaredGradientSum);
                break;
        }
        if (_optimiser is LipschitzStepOptimiser l && meta.Lipschitz is double value)
        {
            l.Lipschitz.Value = value;
            l.Lipschitz.LastSearch = meta.LastSearch;
            l.Lipschitz.LastUpdate = meta.LastUpdate;
        }
        _optimiser!.StepMultiplier = meta.StepMultiplier;
    }

    /// <summary>The poses of a checkpoint: its poses.snap, or (checkpoints written before it existed) its poses section.</summary>
    /// <param name="count">the particles the checkpoint has poses of (fewer than now when a live run's pool grew since)</param>
    private void RestorePoses(CheckpointEntry entry, CheckpointContents contents, int count)
    {
        _poses?.Dispose();
        _poses = null;
        string snapshot = entry.File(RunCheckpoint.PosesFile);
        if (File.Exists(snapshot)) _poses = PoseStore.Open(snapshot, PosesPath, count);
        else
        {
            _poses = PoseStore.Create(PosesPath, count);
            _poses.Import(contents.Doubles(RunCheckpoint.PosesSection, count * PoseStore.Fields));
        }
        _poses.Grow(_data.Count);
    }
}
