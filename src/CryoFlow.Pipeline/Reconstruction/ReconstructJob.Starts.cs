using System.Diagnostics;
using CryoFlow.Formats.Checkpoints;
using CryoFlow.Formats.State;
using Serilog;
using Serilog.Events;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>
/// Robustness to the start and to a late decline: a race of random starts (run.starts), and keeping the map of the lowest
/// held-out NLL (resolution.stop.keepBest).
/// </summary>
public sealed partial class ReconstructJob
{
    /// <summary>The folder of the race's starts, under the run folder.</summary>
    public const string StartsFolder = "starts";

    private string KeptPosesPath => Path.Combine(_run, "state", "kept-poses.snap");

    // resolution.stop.keepBest: the kept map, its iteration and held-out NLL, its poses at KeptPosesPath
    private float[]? _keptVolume;
    private long? _keptIteration;
    private double _keptTestNll = double.PositiveInfinity;
    private IReadOnlyList<StartOutcome> _startOutcomes = [];

    /// <summary>
    /// run.starts &gt; 1: runs each start for run.startIterations iterations as a run of its own in RUN/starts/start-K (same
    /// seed, so the same split, minibatches and sampling streams; its own start density from run.startSeed), and returns the
    /// final checkpoint of the one whose held-out NLL is lowest. A start whose folder holds a checkpoint of the same settings
    /// is resumed from it, so a race stopped part-way loses at most the work since that checkpoint.
    /// </summary>
    /// <exception cref="OperationCanceledException">the run was cancelled during a start (its checkpoint resumes it)</exception>
    /// <exception cref="ReconstructionDivergedException">every start diverged</exception>
    private CheckpointEntry RaceStarts(Action<RunProgress>? progress, CancellationToken cancel)
    {
        var cfg = _request.Config;
        int count = cfg.Run.Starts;
        _log.Information("Racing {Count} random starts for {N} iterations each in {Folder}; the run continues the one with the lowest held-out NLL",
            count, cfg.Run.StartIterations, Path.Combine(_run, StartsFolder));
        // a start's own messages reach the run's log from warnings up; its metrics, maps and report are in its folder
        using var quiet = new LoggerConfiguration().MinimumLevel.Warning().WriteTo.Logger(_log).CreateLogger();
        var outcomes = new List<(int Index, int Seed, double? Nll, string Folder)>();
        for (int s = 0; s < count; s++)
        {
            int seed = cfg.Run.StartSeedOf(s);
            var startCfg = cfg with
            {
                Run = cfg.Run with { Starts = 1, StartSeed = seed, MaxIterations = cfg.Run.StartIterations, TimeLimitMinutes = null },
                Resolution = cfg.Resolution with { Stop = cfg.Resolution.Stop with { Patience = 0, KeepBest = false } },
            };
            string folder = Path.Combine(_run, StartsFolder, $"start-{s + 1}");
            CheckpointEntry? resume = null;
            if (RunCheckpoint.FindResumable(folder, quiet) is { } found)
            {
                if (found.Meta.ConfigHash == startCfg.ConfigHash()) resume = found.Entry;
                else
                {
                    _log.Information("Start {K}: the folder holds a start of other settings; starting it over", s + 1);
                    RunFolder.Clear(folder, includeStarts: true);
                }
            }
            // the run itself checked every particle already (--on-bad-particle fail), so the starts skip instead of reading all again
            var request = _request with { OutputDirectory = folder, Config = startCfg, BadParticles = BadParticlePolicy.Skip, ResumeFrom = resume, AllowConfigChange = false };
            var clock = Stopwatch.StartNew();
            ReconstructResult result;
            try
            {
                int k = s + 1;
                result = Run(request, quiet, progress is null ? null : p => progress(p with { Stage = $"start {k}/{count}, {p.Stage}" }), cancel);
            }
            catch (ReconstructionDivergedException e)
            {
                _log.Warning("Start {K} (start seed {Seed}) diverged and is left out: {Error}", s + 1, seed, e.Message);
                outcomes.Add((s, seed, null, folder));
                continue;
            }
            if (result.Reason == StopReason.Cancelled)
            {
                _log.Information("Stopped during start {K}; its checkpoint in {Folder} resumes it when the run is started again", s + 1, folder);
                throw new OperationCanceledException(cancel);
            }
            _log.Information("Start {K} (start seed {Seed}){Resumed}: held-out NLL {Nll:F4} after {It} iterations, {Seconds:F0} s",
                s + 1, seed, resume is null ? "" : $" resumed at {resume.Iteration}", result.TestNll, result.Iterations, clock.Elapsed.TotalSeconds);
            outcomes.Add((s, seed, result.TestNll, folder));
        }
        var ranked = outcomes.Where(o => o.Nll is double).OrderBy(o => o.Nll!.Value).ThenBy(o => o.Index).ToList();
        if (ranked.Count == 0)
            throw new ReconstructionDivergedException($"every one of the {count} random starts diverged; nothing was written to {_run}. Lower optimiser.stepScale and start again (--restart)");
        var best = ranked[0];
        _log.Information("Continuing start {K} (start seed {Seed}, held-out NLL {Nll:F4}; the others {Others})", best.Index + 1, best.Seed, best.Nll,
            string.Join(", ", ranked.Skip(1).Select(o => o.Nll!.Value.ToString("F4", System.Globalization.CultureInfo.InvariantCulture))));
        _startOutcomes = outcomes.Select(o => new StartOutcome(o.Index + 1, o.Seed, o.Nll, o.Index == best.Index)).ToList();
        return RunCheckpoint.FindResumable(best.Folder, _log)?.Entry
            ?? throw new CheckpointFormatException("the chosen start's checkpoint cannot be read", new Formats.Errors.DataLocation(FilePath: best.Folder));
    }

    /// <summary>
    /// The run continues the chosen start: its checkpoint's state, its metrics and its maps become the run's, and the run's
    /// own checkpoint of that iteration is written (a later stop resumes from it, without racing again).
    /// </summary>
    private void ContinueStart(CheckpointEntry winner, Stopwatch session)
    {
        var (contents, meta) = RunCheckpoint.Read(winner);
        string folder = Path.GetDirectoryName(Path.GetDirectoryName(winner.Path)!)!;
        File.Copy(Path.Combine(folder, "metrics.jsonl"), MetricsPath, overwrite: true);
        foreach (string map in Directory.EnumerateFiles(Path.Combine(folder, "iterations"), "*.mrc"))
            File.Copy(map, Path.Combine(_run, "iterations", Path.GetFileName(map)), overwrite: true);
        foreach (var old in _checkpoints.DeleteAfter(-1))
            _log.Information("Deleted the checkpoint {Path} of an earlier run in this folder", old.Path);
        Restore(winner, contents, meta, session, resuming: true);
        WriteCheckpoint(session, report: false);
    }

    /// <summary>resolution.stop.keepBest: holds the current map and poses as the best so far.</summary>
    /// <param name="iteration">the iterations the current map has had</param>
    private void Keep(long iteration, double testNll)
    {
        _keptVolume ??= new float[_volume.Length];
        _volume.CopyTo(_keptVolume, 0);
        Formats.Star.AtomicFile.Write(KeptPosesPath, s => _poses!.Snapshot(s));
        _keptIteration = iteration;
        _keptTestNll = testNll;
        _log.Debug("Keeping the map after iteration {It}: held-out NLL {Nll:F4}", iteration, testNll);
    }

    /// <summary>Puts the kept map and poses of a checkpoint in place (or forgets any, when it holds none).</summary>
    private void RestoreKept(CheckpointEntry entry, CheckpointContents contents, CheckpointMeta meta)
    {
        _keptIteration = meta.KeptIteration;
        _keptTestNll = meta.KeptTestNll ?? double.PositiveInfinity;
        _keptVolume = null;
        if (meta.KeptIteration is null)
        {
            File.Delete(KeptPosesPath);
            return;
        }
        _keptVolume = contents.Floats(RunCheckpoint.KeptVolumeSection, _volume.Length);
        Directory.CreateDirectory(Path.GetDirectoryName(KeptPosesPath)!);
        File.Copy(entry.File(RunCheckpoint.KeptPosesFile), KeptPosesPath, overwrite: true);
    }

    /// <summary>
    /// At the end of a run with resolution.stop.keepBest: when the kept map's held-out NLL is lower than the final map's,
    /// the kept volume and poses become the ones written (the final map goes to RUN/iterations/ first).
    /// </summary>
    /// <returns>the iteration of the map to write, and its held-out NLL</returns>
    private (long Iteration, double? TestNll) ChooseMapToWrite(double? finalNll)
    {
        if (_keptIteration is not long kept || _keptVolume is null || finalNll is not double final || !(_keptTestNll < final))
            return (_done, finalNll);
        WriteMap(Path.Combine(_run, "iterations", $"map_{_done:D6}.mrc"), _volume, $"CryoFlow iteration {_done} (final)");
        _log.Information("The final map's held-out NLL {Final:F4} is higher than the {Kept:F4} of the map after iteration {It}: map.mrc and particles.star are that iteration's "
            + "(resolution.stop.keepBest); the final map is iterations/map_{Done:D6}.mrc", final, _keptTestNll, kept, _done);
        _keptVolume.CopyTo(_volume, 0);
        _poses!.Dispose();
        _poses = PoseStore.Open(KeptPosesPath, PosesPath, _data.Count);
        return (kept, _keptTestNll);
    }
}
