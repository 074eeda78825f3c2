using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Output;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.Pipeline.Simulation;
using CryoFlow.TestSupport;
using Serilog.Core;
using static CryoFlow.Pipeline.Tests.Reconstruction.TinyRuns;

namespace CryoFlow.Pipeline.Tests.Reconstruction;

/// <summary>run.starts (a race of random starts judged by the held-out NLL) and resolution.stop.keepBest.</summary>
public class ReconstructStartsTests
{
    /// <summary>Box 32 at SNR 1: enough signal that the starts end apart and the held-out NLL moves at the ceiling
    /// (TinyRuns' SNR 0.2 set ends every start at the same, empty map).</summary>
    private static SimulateResult SimulateClear(string dir) =>
        SimulateJob.Run(TestPaths.RealData("volumes/hand-vol.mrc"),
            new SimulateOptions(dir, 300, VoxelSize: 3.0, Box: 32, Snr: 1, ShiftSigma: 1, Seed: 5), Logger.None);

    /// <summary>TinyRuns' settings, w* stepping every 2 iterations to its ceiling at 25, the held-out set every iteration.</summary>
    private static ReconstructConfig Fast(int iterations, params string[] extra) => Config(iterations,
        ["optimiser.positivity=false", "prior.kind=car", "resolution.maxFrequency.every=2", "evaluation.testEvery=1", "resolution.stop.patience=0", .. extra]);

    [Fact]
    public void ARaceContinuesTheStartWithTheLowestHeldOutNllAndEndsAsThatStartRunStraight()
    {
        using var dir = new TempDir();
        var sim = SimulateClear(dir.File("data"));
        string run = dir.File("race");
        var race = Run(new ReconstructRequest(sim.StarPath, run, Fast(16, "run.starts=3", "run.startIterations=8")));

        Assert.Equal([1, 2, 3], race.Starts.Select(s => s.Index));
        Assert.Equal(3, race.Starts.Select(s => s.StartSeed).Distinct().Count());
        Assert.All(race.Starts, s => Assert.NotNull(s.TestNll));
        Assert.Equal(3, race.Starts.Select(s => s.TestNll).Distinct().Count()); // the starts end apart, so the choice means something
        var chosen = Assert.Single(race.Starts, s => s.Chosen);
        Assert.Equal(race.Starts.Min(s => s.TestNll!.Value), chosen.TestNll!.Value);
        Assert.All(race.Starts, s => Assert.True(File.Exists(Path.Combine(run, ReconstructJob.StartsFolder, $"start-{s.Index}", "map.mrc"))));
        Assert.Equal(16, race.Iterations);
        Assert.Equal(Enumerable.Range(1, 16).Select(i => (long)i), MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Select(m => m.Iteration));

        // the winner, continued, is the run that started from its seed and never raced
        var straight = Run(new ReconstructRequest(sim.StarPath, dir.File("straight"), Fast(16, $"run.startSeed={chosen.StartSeed}")));
        Assert.Equal(File.ReadAllBytes(straight.MapPath), File.ReadAllBytes(race.MapPath));
        AssertSamePoses(straight.ParticlesStarPath, race.ParticlesStarPath);
    }

    [Fact]
    public void ARaceStoppedDuringItsStartsResumesThemAndEndsWithTheSameBytes()
    {
        using var dir = new TempDir();
        var sim = SimulateClear(dir.File("data"));
        var config = Fast(12, "run.starts=2", "run.startIterations=6");
        var straight = Run(new ReconstructRequest(sim.StarPath, dir.File("straight"), config));

        string run = dir.File("stopped");
        // progress counts each start's iterations: the first start's 4th stops the race
        Assert.Throws<OperationCanceledException>(() => Run(new ReconstructRequest(sim.StarPath, run, config), stopAfter: 4));
        Assert.NotEmpty(RunCheckpoint.Folder(Path.Combine(run, ReconstructJob.StartsFolder, "start-1")).List());
        Assert.False(Directory.Exists(Path.Combine(run, ReconstructJob.StartsFolder, "start-2")));
        var resumed = Run(new ReconstructRequest(sim.StarPath, run, config));
        Assert.Equal(straight.Starts, resumed.Starts);
        Assert.Equal(File.ReadAllBytes(straight.MapPath), File.ReadAllBytes(resumed.MapPath));
        AssertSamePoses(straight.ParticlesStarPath, resumed.ParticlesStarPath);
    }

    [Fact]
    public void KeepBestWritesTheMapOfTheLowestHeldOutNllAtTheCeilingAndResumesToTheSameBytes()
    {
        using var dir = new TempDir();
        var sim = SimulateClear(dir.File("data"));
        // After 28 iterations the step becomes four times too long, so the maps at the ceiling get worse by far more than the
        // noise of a 20-particle held-out NLL on any machine: the best map is certain to come before the last one (with
        // a sane step it often is, but which map wins then depends on rounding, which differs between CPUs).
        string overshoot = """optimiser.stepScale={"type": "piecewise", "interpolation": "step", "points": [{"at": 0, "value": 2}, {"at": 28, "value": 8}]}""";
        var config = Fast(34, overshoot, "resolution.stop.keepBest=true");
        string keptRun = dir.File("kept");
        var kept = Run(new ReconstructRequest(sim.StarPath, keptRun, config));
        var plain = Run(new ReconstructRequest(sim.StarPath, dir.File("plain"), Fast(34, overshoot)));

        // the metrics of iteration i hold the held-out NLL of the map after i - 1 iterations; the final map's is the result's
        var metrics = MetricsLog.Read(Path.Combine(keptRun, "metrics.jsonl"));
        double ceiling = metrics.Max(m => m.MaxFrequency);
        var atCeiling = metrics.Where(m => m.MaxFrequency >= ceiling - 1e-12 && m.TestNll is not null).Select(m => (Map: m.Iteration - 1, Nll: m.TestNll!.Value))
            .Append((Map: 34L, Nll: plain.TestNll!.Value)).ToList();
        var best = atCeiling.MinBy(c => c.Nll);
        Assert.True(best.Map <= 28, $"the held-out NLL is lowest before the step grows (map {best.Map}), so keepBest has something to do");
        Assert.Equal((best.Map, best.Nll), (kept.MapIteration, kept.TestNll!.Value));
        Assert.Equal(34, kept.Iterations);
        // the final map stays beside it, the same as the run without keepBest wrote
        Assert.Equal(MapVoxels(plain.MapPath), MapVoxels(Path.Combine(keptRun, "iterations", "map_000034.mrc")));
        Assert.NotEqual(MapVoxels(plain.MapPath), MapVoxels(kept.MapPath));
        // and the poses written are the kept iteration's, not the final ones (angles and shifts, without the last column)
        static string[] Poses(string star) => File.ReadAllLines(star).Select(l => l.Contains('@') ? l[..l.LastIndexOf(' ')] : l).ToArray();
        Assert.NotEqual(Poses(plain.ParticlesStarPath), Poses(kept.ParticlesStarPath));

        string run = dir.File("stopped");
        Run(new ReconstructRequest(sim.StarPath, run, config), stopAfter: 30);
        var resumed = Run(new ReconstructRequest(sim.StarPath, run, config) { ResumeFrom = Latest(run) });
        Assert.Equal(30, resumed.ResumedFrom);
        Assert.Equal((kept.MapIteration, kept.TestNll), (resumed.MapIteration, resumed.TestNll));
        Assert.Equal(File.ReadAllBytes(kept.MapPath), File.ReadAllBytes(resumed.MapPath));
        AssertSamePoses(kept.ParticlesStarPath, resumed.ParticlesStarPath);
    }

    /// <summary>
    /// Two particles.star files with the same text, except that rlnMaxValueProbDistribution (the last column) may differ
    /// in its last bit: with 2 threads the posterior's normaliser of one particle was seen to flip by one ulp with thread
    /// scheduling (ThreadPool.SetMinThreads changes which value a run gets; a cause outside this feature, not found yet),
    /// which the maps and poses never show.
    /// </summary>
    private static void AssertSamePoses(string expected, string actual)
    {
        var a = File.ReadAllLines(expected);
        var b = File.ReadAllLines(actual);
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] == b[i]) continue;
            int cut = a[i].LastIndexOf(' ');
            Assert.True(cut > 0 && b[i].LastIndexOf(' ') == cut && a[i][..cut] == b[i][..cut], $"line {i + 1} differs:\n{a[i]}\n{b[i]}");
            double x = double.Parse(a[i][(cut + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            double y = double.Parse(b[i][(cut + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(Math.Abs(x - y) <= 1e-14 * Math.Abs(x), $"line {i + 1}: rlnMaxValueProbDistribution {x:R} vs {y:R}");
        }
    }

    /// <summary>A map's voxels, without the header (whose label names the iteration).</summary>
    private static byte[] MapVoxels(string path) => File.ReadAllBytes(path)[1024..];

    [Theory]
    [InlineData("run.starts=0")]
    [InlineData("run.starts=2", "run.maxIterations=300", "run.startIterations=300")]
    [InlineData("run.starts=2", "data.initialMap=/tmp/some-map.mrc")]
    public void ImpossibleRacesAreRefusedNamingTheKey(params string[] sets)
    {
        var e = Assert.Throws<ConfigException>(() => ReconstructConfig.Load(Path.Combine(TestPaths.RepoRoot, "configs", "quick.json"), sets));
        Assert.Contains("start", e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
