using CryoFlow.Formats.Mrc;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Output;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.TestSupport;
using Serilog.Core;
using Serilog.Events;
using static CryoFlow.Pipeline.Tests.Reconstruction.TinyRuns;

namespace CryoFlow.Pipeline.Tests.Reconstruction;

/// <summary>Checkpoints, resume and rollback of in-process runs (the CLI tests kill real processes).</summary>
public class ReconstructResumeTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ARunStoppedAndResumedTwiceEndsWithTheSameBytesAsOneNeverStopped(bool importanceSampling)
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"));
        var config = Config(40, $"importanceSampling.enabled={(importanceSampling ? "true" : "false")}");
        var straight = Run(new ReconstructRequest(sim.StarPath, dir.File("straight"), config));

        string run = dir.File("stopped");
        Assert.Equal(StopReason.Cancelled, Run(new ReconstructRequest(sim.StarPath, run, config), stopAfter: 9).Reason);
        Assert.Equal(StopReason.Cancelled, Run(new ReconstructRequest(sim.StarPath, run, config) { ResumeFrom = Latest(run) }, stopAfter: 23).Reason); // across the stage change at 15
        var resumed = Run(new ReconstructRequest(sim.StarPath, run, config) { ResumeFrom = Latest(run) });

        Assert.Equal(23, resumed.ResumedFrom);
        Assert.Equal(40, resumed.Iterations);
        Assert.Equal(File.ReadAllBytes(straight.MapPath), File.ReadAllBytes(resumed.MapPath));
        Assert.Equal(File.ReadAllBytes(straight.ParticlesStarPath), File.ReadAllBytes(resumed.ParticlesStarPath));
        var metrics = MetricsLog.Read(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), metrics.Select(m => m.Iteration));
        var reference = MetricsLog.Read(Path.Combine(dir.File("straight"), "metrics.jsonl"));
        Assert.Equal(reference.Select(m => (m.Objective, m.TestNll, m.Lipschitz, m.QuadratureFraction)), metrics.Select(m => (m.Objective, m.TestNll, m.Lipschitz, m.QuadratureFraction)));
    }

    [Fact]
    public void AResumeCutsMetricsBackToTheCheckpointAndKeepsTheNewestCheckpoints()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"));
        string run = dir.File("run");
        var config = Config(12, "output.checkpoint.everyIterations=4", "output.checkpoint.keep=2");
        Run(new ReconstructRequest(sim.StarPath, run, config), stopAfter: 6);
        // a process killed after iteration 6 left metrics of iterations 5 and 6 beyond its last periodic checkpoint (4);
        // here the stop wrote one at 6, so take it away to see the cut
        var folder = RunCheckpoint.Folder(run);
        Assert.Equal([6, 4, 0], folder.List().Select(c => c.Iteration));
        Directory.Delete(folder.List()[0].Path, recursive: true);
        Assert.Equal(6, MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Count);

        var resumed = Run(new ReconstructRequest(sim.StarPath, run, config) { ResumeFrom = Latest(run) });
        Assert.Equal(4, resumed.ResumedFrom);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(m => m.Iteration));
        Assert.Equal([12, 8, 0], folder.List().Select(c => c.Iteration)); // the newest 2, and iteration 0's
    }

    [Fact]
    public void AStopBeforeTheFirstIterationStillWritesTheStartAndResumesFromIt()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"));
        string run = dir.File("run");
        var config = Config(3, "importanceSampling.enabled=true");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var stopped = ReconstructJob.Run(new ReconstructRequest(sim.StarPath, run, config), Logger.None, cancel: cancelled.Token);
        Assert.Equal((StopReason.Cancelled, 0L), (stopped.Reason, stopped.Iterations));
        Assert.True(File.Exists(stopped.MapPath));
        Assert.Equal([0], RunCheckpoint.Folder(run).List().Select(c => c.Iteration));
        Assert.Equal(3, Run(new ReconstructRequest(sim.StarPath, run, config) { ResumeFrom = Latest(run) }).Iterations);
    }

    [Fact]
    public void TheMinutesCadenceWritesCheckpointsWithoutTheIterationsOne()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"));
        string run = dir.File("run");
        Run(new ReconstructRequest(sim.StarPath, run, Config(4, "output.checkpoint.everyIterations=0", "output.checkpoint.everyMinutes=1e-9")));
        Assert.Equal([4, 3, 2, 0], RunCheckpoint.Folder(run).List().Select(c => c.Iteration));
    }

    [Fact]
    public void ResumingWithAChangedSettingIsRefusedUnlessAllowedAndRunControlMayChange()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"));
        string run = dir.File("run");
        Run(new ReconstructRequest(sim.StarPath, run, Config(5)));
        byte[] metrics = File.ReadAllBytes(Path.Combine(run, "metrics.jsonl"));

        var changed = Config(5, "prior.lambda=0.5");
        var e = Assert.Throws<ConfigException>(() => Run(new ReconstructRequest(sim.StarPath, run, changed) { ResumeFrom = Latest(run) }));
        Assert.Contains("prior.lambda", e.Message);
        Assert.Contains("--allow-config-change", e.Message);
        Assert.Equal(metrics, File.ReadAllBytes(Path.Combine(run, "metrics.jsonl"))); // nothing touched

        // more iterations and another checkpoint cadence are not a different run
        using var log = new LogCapture();
        var longer = Run(new ReconstructRequest(sim.StarPath, run, Config(8, "output.checkpoint.everyIterations=3")) { ResumeFrom = Latest(run) }, log.Logger);
        Assert.Equal(8, longer.Iterations);
        Assert.Contains(log.Messages(), m => m.Contains("run.maxIterations: 5 -> 8"));

        using var allowed = new LogCapture();
        var result = Run(new ReconstructRequest(sim.StarPath, run, Config(10, "prior.lambda=0.5")) { ResumeFrom = Latest(run), AllowConfigChange = true }, allowed.Logger);
        Assert.Equal(10, result.Iterations);
        Assert.Contains(allowed.Messages(LogEventLevel.Warning), m => m.Contains("--allow-config-change") && m.Contains("prior.lambda"));
    }

    [Fact]
    public void AnExplodingObjectiveRollsBackToAGoodCheckpointWithSmallerStepsInsteadOfWritingGarbage()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"));
        string run = dir.File("run");
        using var log = new LogCapture();
        // a step scale a hundred times too large, without positivity to clamp the density: it explodes within a few iterations
        var result = Run(new ReconstructRequest(sim.StarPath, run, Config(20, "output.checkpoint.everyIterations=5", "optimiser.positivity=false", "prior.kind=uniform",
            """optimiser.stepScale={"type":"constant","value":300}""")), log.Logger);

        Assert.Equal(StopReason.MaxIterations, result.Reason);
        Assert.InRange(result.Rollbacks, 1, 8);
        Assert.Contains(log.Messages(LogEventLevel.Warning), m => m.Contains("rolling back to the checkpoint after iteration"));
        var metrics = MetricsLog.Read(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), metrics.Select(m => m.Iteration)); // the abandoned iterations are gone
        double best = metrics.Min(m => m.Objective);
        Assert.All(metrics, m => Assert.True(double.IsFinite(m.Objective) && m.Objective <= 11 * best, $"iteration {m.Iteration}: {m.Objective}"));
        using var map = MrcReader.OpenVolume(result.MapPath, Logger.None);
        Assert.All(map.ReadVolume(), v => Assert.True(float.IsFinite(v)));
    }
}
