using CryoFlow.Pipeline.Output;
using CryoFlow.TestSupport;

namespace CryoFlow.Cli.Tests.Commands;

/// <summary>`cryoflow reconstruct` runs that stop and go on: kills at random moments, signals, resume and restart.</summary>
public class ReconstructCommandTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    /// <summary>200 particles, box 32 (6 Å/px), from the bundled hand volume.</summary>
    private static string Simulate(TempDir dir)
    {
        var r = CliRunner.Run("simulate", "--box", "32", "--count", "200", "--snr", "0.2", "--shift-sigma", "1", "--seed", "3", "--out", dir.File("data"));
        Assert.True(r.ExitCode == 0, r.ToString());
        return dir.File("data/particles.star");
    }

    /// <summary>The quick preset, 40 iterations across a change of the maximum frequency, a checkpoint after every iteration.</summary>
    private static string[] Reconstruct(string star, string run, bool importanceSampling, int iterations = 40, int checkpointEvery = 1, params string[] extra) =>
    [
        "reconstruct", star, "--out", run, "--config", Path.Combine(TestPaths.RepoRoot, "configs", "quick.json"), "--threads", "2",
        "--max-iterations", iterations.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--checkpoint-every", checkpointEvery.ToString(System.Globalization.CultureInfo.InvariantCulture), "--set", "data.testSetSize=20",
        "--set", "resolution.maxFrequency.every=15", "--set", "evaluation.testEvery=7", "--set", $"importanceSampling.enabled={(importanceSampling ? "true" : "false")}", .. extra,
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ARunKilledAtRandomMomentsAndResumedEachTimeEndsWithTheBytesOfOneNeverKilled(bool importanceSampling)
    {
        using var dir = new TempDir();
        string star = Simulate(dir);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var straight = ChildCli.Start(dir.Path, Reconstruct(star, dir.File("straight"), importanceSampling)))
            Assert.True(straight.Wait(Patience) == 0, straight.Output);
        double seconds = clock.Elapsed.TotalSeconds;

        string run = dir.File("killed");
        var rng = new Random(importanceSampling ? 11 : 7);
        int kills = 0, starts = 0;
        while (true)
        {
            starts++;
            using var child = ChildCli.Start(dir.Path, Reconstruct(star, run, importanceSampling));
            if (kills < 4)
            {
                // SIGKILL at a random moment (starting up, reading, marginalising, stepping, writing a checkpoint), early
                // enough in the run that it lands most times
                Thread.Sleep(TimeSpan.FromSeconds(seconds * (0.1 + 0.3 * rng.NextDouble())));
                if (!child.HasExited)
                {
                    child.Kill();
                    kills++;
                    continue;
                }
            }
            Assert.True(child.Wait(Patience) == 0, child.Output);
            break;
        }

        Assert.True(kills >= 3, $"only {kills} kills landed in {starts} starts");
        Assert.Equal(File.ReadAllBytes(dir.File("straight/map.mrc")), File.ReadAllBytes(Path.Combine(run, "map.mrc")));
        Assert.Equal(File.ReadAllBytes(dir.File("straight/particles.star")), File.ReadAllBytes(Path.Combine(run, "particles.star")));
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(m => m.Iteration));
    }

    [Fact]
    public void SigtermStopsAfterTheMinibatchWithACheckpointAndStatus143AndASecondSignalExitsAtOnce()
    {
        using var dir = new TempDir();
        string star = Simulate(dir);
        string run = dir.File("run");
        using (var child = ChildCli.Start(dir.Path, Reconstruct(star, run, false, iterations: 100000, checkpointEvery: 1000)))
        {
            WaitForIterations(run, 3, child);
            child.Signal("TERM");
            Assert.Equal(143, child.Wait(Patience));
            Assert.Contains("SIGTERM: finishing the current minibatch", child.Output);
        }
        long stoppedAt = MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Count;
        Assert.True(Directory.Exists(Path.Combine(run, "checkpoints", $"ckpt-{stoppedAt:D8}")), "a checkpoint of the last iteration");
        Assert.True(File.Exists(Path.Combine(run, "map.mrc")));

        // resumed with only the run folder (the options come from the checkpoint), then stopped twice
        using (var child = ChildCli.Start(dir.Path, "reconstruct", "--out", run))
        {
            WaitForIterations(run, stoppedAt + 2, child);
            child.Signal("INT");
            // the second signal once the first is being handled (two at once may arrive as one), while the run winds down
            var deadline = DateTime.UtcNow + Patience;
            while (!child.Output.Contains("SIGINT: finishing", StringComparison.Ordinal) && DateTime.UtcNow < deadline) Thread.Sleep(2);
            child.Signal("INT");
            Assert.Equal(130, child.Wait(Patience));
            Assert.Contains("again: exiting at once", child.Output);
            Assert.Contains($"resuming {run} from the checkpoint after iteration {stoppedAt}", child.Output);
        }
        var r = CliRunner.Run("reconstruct", "--out", run, "--max-iterations", (stoppedAt + 4).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(Enumerable.Range(1, (int)stoppedAt + 4).Select(i => (long)i), MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(m => m.Iteration));
    }

    private static void WaitForIterations(string run, long count, ChildCli child)
    {
        var deadline = DateTime.UtcNow + Patience;
        string metrics = Path.Combine(run, "metrics.jsonl");
        while (!(File.Exists(metrics) && MetricsLog.Read(metrics).Count >= count))
        {
            Assert.False(child.HasExited, child.Output);
            Assert.True(DateTime.UtcNow < deadline, "no progress: " + child.Output);
            Thread.Sleep(50);
        }
    }

    [Fact]
    public void AResumeKeepsTheStartingOptionsAndSaysSoWhileRestartStartsClean()
    {
        using var dir = new TempDir();
        string star = Simulate(dir);
        string run = dir.File("run");
        var first = CliRunner.Run(Reconstruct(star, run, false, 4, 2, "--seed", "9"));
        Assert.True(first.ExitCode == 0, first.ToString());

        var resumed = CliRunner.Run("reconstruct", "--out", run, "--max-iterations", "6");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains($"resuming {run} from the checkpoint after iteration 4", resumed.Err);
        string config = File.ReadAllText(Path.Combine(run, "config.json"));
        Assert.Contains("\"seed\": 9", config);
        Assert.Contains("\"maxIterations\": 6", config);
        Assert.Contains("\"testSetSize\": 20", config);
        string log = File.ReadAllText(Path.Combine(run, "run.log"));
        Assert.Contains("Options from the checkpoint:", log);
        Assert.Contains("--seed 9", log);
        Assert.Contains("Options given now, over those: --max-iterations 6", log);
        Assert.Contains("run.maxIterations: 4 -> 6", log);
        Assert.Equal(6, MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Count);

        var refused = CliRunner.Run("reconstruct", "--out", run, "--seed", "10");
        Assert.Equal(ExitCodes.BadInput, refused.ExitCode);
        Assert.Contains("run.seed", refused.Err);
        Assert.Contains("--allow-config-change", refused.Err);

        var restarted = CliRunner.Run(Reconstruct(star, run, false, 2, 1, "--restart"));
        Assert.True(restarted.ExitCode == 0, restarted.ToString());
        Assert.Equal([1, 2], MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(m => m.Iteration));
        log = File.ReadAllText(Path.Combine(run, "run.log"));
        Assert.Single(log.Split('\n'), l => l.Contains(" INF cryoflow ", StringComparison.Ordinal));
        Assert.Contains("Starting over: removed the earlier run's", log);
        Assert.Equal(["ckpt-00000000", "ckpt-00000001", "ckpt-00000002"], Directory.EnumerateDirectories(Path.Combine(run, "checkpoints")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void AFolderWithoutACheckpointNeedsTheParticles()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("reconstruct", "--out", dir.File("run"));
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.Contains("holds no checkpoint to resume", r.Err);
    }

    [Fact]
    public void AMemoryBudgetTooSmallIsRefusedSayingWhatWouldFit()
    {
        using var dir = new TempDir();
        string star = Simulate(dir);
        var r = CliRunner.Run(Reconstruct(star, dir.File("run"), false, 40, 1, "--max-memory", "50M"));
        Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        Assert.Contains("--max-memory: 50 MB is less than this run needs", r.Err);
        Assert.Contains("--max-memory", r.Err[r.Err.IndexOf("nothing smaller fits", StringComparison.Ordinal)..]);
    }
}
