using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Evaluation;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Output;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.Pipeline.Simulation;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Reconstruction;

/// <summary>End-to-end runs on tiny simulated datasets (box 32, a few hundred particles).</summary>
public class ReconstructJobTests
{
    internal static SimulateResult Simulate(string dir, int count, int seed = 5) =>
        SimulateJob.Run(TestPaths.RealData("volumes/hand-vol.mrc"),
            new SimulateOptions(dir, count, VoxelSize: 3.0, Box: 32, Snr: 0.2, ShiftSigma: 1, Seed: seed), Logger.None);

    internal static ReconstructConfig Quick(int iterations, params string[] extra) => ReconstructConfig.Load(
        Path.Combine(TestPaths.RepoRoot, "configs", "quick.json"),
        [$"run.maxIterations={iterations}", "run.threads=2", "quadrature.shiftSigma=6", "quadrature.shiftExtent=12", .. extra]);

    /// <summary>Mean FSC over the shells up to <paramref name="shell"/> after aligning <paramref name="map"/> to the truth.</summary>
    internal static double AlignedMeanFsc(string truthPath, string mapPath, int shell)
    {
        using var t = MrcReader.OpenVolume(truthPath, Logger.None);
        using var m = MrcReader.OpenVolume(mapPath, Logger.None);
        var truth = t.ReadVolume();
        var aligned = MapAlignment.Align(truth, m.ReadVolume(), t.Width, t.Header.VoxelSizeX!.Value).Aligned;
        var fsc = FourierShellCorrelation.Compute(truth, aligned, t.Width, t.Header.VoxelSizeX!.Value);
        return fsc.Shells.Skip(1).Take(shell).Average(s => s.Correlation);
    }

    [Fact]
    public void MapImprovesOverTheRandomStartAgainstTheTruth()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"), 400);
        string run = dir.File("run");
        var result = ReconstructJob.Run(new ReconstructRequest(sim.StarPath, run, Quick(150)), Logger.None, cancel: TestContext.Current.CancellationToken);

        Assert.Equal(150, result.Iterations);
        Assert.Equal(StopReason.MaxIterations, result.Reason);
        string truth = Path.Combine(dir.File("data"), SimulateJob.TruthName);
        double start = AlignedMeanFsc(truth, Path.Combine(run, "iterations", "map_000000.mrc"), 8);
        double final = AlignedMeanFsc(truth, result.MapPath, 8);
        Assert.True(final > start + 0.15 && final > 0.6, $"mean FSC over shells 1-8: start {start:F3}, final {final:F3}");

        // every output, readable
        Assert.Equal(6.0, MrcReader.ReadHeader(result.MapPath, Logger.None).VoxelSizeX!.Value, 6);
        var metrics = MetricsLog.Read(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(150, metrics.Count);
        Assert.Contains(metrics, m => m.TestNll is not null);
        Assert.True(metrics[^1].TestNll is null || metrics.First(m => m.TestNll is not null).TestNll > metrics.Last(m => m.TestNll is not null).TestNll);
        var poses = ParticleTable.Read(result.ParticlesStarPath);
        Assert.Equal(400, poses.Count);
        Assert.All(poses.Particles, p => Assert.NotNull(p.Pose));
        Assert.Equal(ReconstructConfig.FromJson(File.ReadAllText(Path.Combine(run, "config.json"))).ConfigHash(), Quick(150).ConfigHash());
    }

    [Fact]
    public void AnInitialMapIsTheStartAndAMapOfAnotherBoxIsRefusedNamingTheKey()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"), 120);
        string truth = Path.Combine(dir.File("data"), SimulateJob.TruthName);
        var run = ReconstructJob.Run(new ReconstructRequest(sim.StarPath, dir.File("run"), Quick(2, "data.testSetSize=10", $"data.initialMap={truth}")),
            Logger.None, cancel: TestContext.Current.CancellationToken);
        using (var start = MrcReader.OpenVolume(Path.Combine(dir.File("run"), "iterations", "map_000000.mrc"), Logger.None))
        using (var given = MrcReader.OpenVolume(truth, Logger.None))
            Assert.Equal(given.ReadVolume(), start.ReadVolume());
        Assert.Equal(2, run.Iterations);

        string small = dir.File("small.mrc");
        MrcWriter.WriteVolume(small, new float[16 * 16 * 16], 16, 16, 16, new MrcWriterOptions { VoxelSize = 6 });
        var e = Assert.Throws<CryoFlowDataException>(() => ReconstructJob.Run(
            new ReconstructRequest(sim.StarPath, dir.File("run2"), Quick(2, "data.testSetSize=10", $"data.initialMap={small}")),
            Logger.None, cancel: TestContext.Current.CancellationToken));
        Assert.Contains("small.mrc", e.Message);
        Assert.Contains("data.initialMap", e.Message);
        Assert.Contains("32 x 32 x 32", e.Message);
    }

    [Theory]
    [InlineData("data.workingBox.policy=fixed", "data.workingBox.size=24", 24)]
    [InlineData("data.workingBox.policy=ceiling", "resolution.maxFrequency.limit=0.05", 20)] // 0.05 1/Å needs 2 * ceil(0.05 * 32 * 6) = 20 px
    public void AWorkingBoxFourierCropsTheParticlesAndTheMapHasItsBoxAndVoxelSize(string policy, string detail, int box)
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"), 400);
        string run = dir.File("run");
        var result = ReconstructJob.Run(new ReconstructRequest(sim.StarPath, run, Quick(150, policy, detail)), Logger.None,
            cancel: TestContext.Current.CancellationToken);
        var header = MrcReader.ReadHeader(result.MapPath, Logger.None);
        Assert.Equal((box, box, box), (header.Nx, header.Ny, header.Nz));
        Assert.Equal(6.0 * 32 / box, header.VoxelSizeX!.Value, 4);
        // the cropped run still learns the structure: its map, brought back to box 32, beats the random start against the truth
        string truth = Path.Combine(dir.File("data"), SimulateJob.TruthName);
        string Back(string path)
        {
            using var r = MrcReader.OpenVolume(path, Logger.None);
            var big = CryoFlow.Numerics.Resampling.FourierResampler.ResampleVolume(r.ReadVolume(), box, 32);
            string back = path + ".32.mrc";
            MrcWriter.WriteVolume(back, big, 32, 32, 32, new MrcWriterOptions { VoxelSize = 6 });
            return back;
        }
        double start = AlignedMeanFsc(truth, Back(Path.Combine(run, "iterations", "map_000000.mrc")), 8);
        double final = AlignedMeanFsc(truth, Back(result.MapPath), 8);
        Assert.True(final > start + 0.1, $"mean FSC over shells 1-8: start {start:F3}, final {final:F3}");
    }

    [Fact]
    public void ADatasetWideNoiseLevelIsPooledFromTheHeldOutParticlesAndTheRunLearns()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"), 400);
        string run = dir.File("run");
        using var log = new LogCapture();
        var result = ReconstructJob.Run(new ReconstructRequest(sim.StarPath, run, Quick(150, "data.noise.scope=dataset", "data.noise.estimator=std")), log.Logger,
            cancel: TestContext.Current.CancellationToken);
        var pooled = Assert.Single(log.Messages(Serilog.Events.LogEventLevel.Information), m => m.StartsWith("Noise σ pooled over the dataset", StringComparison.Ordinal));
        Assert.Contains("median of 40 held-out particles", pooled);
        string truth = Path.Combine(dir.File("data"), SimulateJob.TruthName);
        double start = AlignedMeanFsc(truth, Path.Combine(run, "iterations", "map_000000.mrc"), 8);
        double final = AlignedMeanFsc(truth, result.MapPath, 8);
        Assert.True(final > start + 0.15, $"mean FSC over shells 1-8: start {start:F3}, final {final:F3}");
    }

    [Fact]
    public void AWorkingBoxLargerThanTheParticlesIsRefused()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"), 50);
        var e = Assert.Throws<ConfigException>(() => ReconstructJob.Run(new ReconstructRequest(sim.StarPath, dir.File("run"),
            Quick(2, "data.workingBox.policy=fixed", "data.workingBox.size=48")), Logger.None, cancel: TestContext.Current.CancellationToken));
        Assert.Contains("data.workingBox.size", e.Message);
        Assert.Contains("32", e.Message);
    }

    [Fact]
    public void SameSeedAndThreadsGiveTheSameMap()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"), 200);
        var a = ReconstructJob.Run(new ReconstructRequest(sim.StarPath, dir.File("a"), Quick(30)), Logger.None, cancel: TestContext.Current.CancellationToken);
        var b = ReconstructJob.Run(new ReconstructRequest(sim.StarPath, dir.File("b"), Quick(30)), Logger.None, cancel: TestContext.Current.CancellationToken);
        using var ra = MrcReader.OpenVolume(a.MapPath, Logger.None);
        using var rb = MrcReader.OpenVolume(b.MapPath, Logger.None);
        Assert.Equal(ra.ReadVolume(), rb.ReadVolume());
    }

    /// <summary>A simulated dataset with bad particles appended: a NaN image, a row past the end of its stack,
    /// a missing stack, and an image of the wrong size.</summary>
    private static (string Star, int Good) WithBadParticles(TempDir dir)
    {
        var sim = Simulate(dir.File("data"), 120);
        string data = dir.File("data");
        using (var w = MrcWriter.CreateStack(Path.Combine(data, "nan.mrcs"), 32, 32, new MrcWriterOptions { VoxelSize = 6 }))
        {
            var img = new float[32 * 32];
            img[100] = float.NaN;
            w.AppendImage(img);
            w.Complete();
        }
        using (var w = MrcWriter.CreateStack(Path.Combine(data, "small.mrcs"), 24, 24, new MrcWriterOptions { VoxelSize = 6 }))
        {
            w.AppendImage(new float[24 * 24]);
            w.Complete();
        }
        var doc = StarDocument.Read(sim.StarPath);
        var rows = doc.Get("particles").RequireLoop();
        int name = rows.RequireColumn("rlnImageName");
        foreach (string image in new[] { "000001@nan.mrcs", "000500@particles.mrcs", "000001@missing.mrcs", "000001@small.mrcs" })
        {
            rows.AddRow(Enumerable.Range(0, rows.ColumnCount).Select(c => rows.GetString(0, c)).ToArray());
            rows.SetString(rows.RowCount - 1, name, image);
        }
        string star = Path.Combine(data, "with-bad.star");
        doc.Write(star);
        return (star, 120);
    }

    [Fact]
    public void BadParticlesAreListedInRejectedStarAndTheRunGoesOn()
    {
        using var dir = new TempDir();
        var (star, good) = WithBadParticles(dir);
        string run = dir.File("run");
        var result = ReconstructJob.Run(new ReconstructRequest(star, run, Quick(40, "data.testSetSize=10")), Logger.None, cancel: TestContext.Current.CancellationToken);
        Assert.Equal(4, result.Rejected);
        var rejected = StarDocument.Read(Path.Combine(run, "rejected.star")).Get("particles").RequireLoop();
        Assert.Equal(4, rejected.RowCount);
        var reasons = Enumerable.Range(0, 4).Select(r => rejected.GetString(r, RejectedParticles.ReasonLabel)).ToArray();
        var names = Enumerable.Range(0, 4).Select(r => rejected.GetString(r, "rlnImageName")).ToArray();
        Assert.Equal(["000001@nan.mrcs", "000500@particles.mrcs", "000001@missing.mrcs", "000001@small.mrcs"], names);
        Assert.Contains("NaN", reasons[0]);
        Assert.Contains("particles.mrcs", reasons[1]);
        Assert.Contains("missing.mrcs", reasons[2]);
        Assert.Contains("24 x 24", reasons[3]);
        Assert.True(File.Exists(result.MapPath));
        Assert.Equal(good + 4, ParticleTable.Read(result.ParticlesStarPath).Count);
    }

    [Fact]
    public void FailPolicyStopsBeforeWritingAnything()
    {
        using var dir = new TempDir();
        var (star, _) = WithBadParticles(dir);
        string run = dir.File("run");
        var e = Assert.ThrowsAny<CryoFlowDataException>(() =>
            ReconstructJob.Run(new ReconstructRequest(star, run, Quick(40), BadParticles: BadParticlePolicy.Fail), Logger.None, cancel: TestContext.Current.CancellationToken));
        Assert.Contains("nan.mrcs", e.Message);
        Assert.Contains(star, e.Message);
        Assert.False(Directory.Exists(run) && Directory.EnumerateFileSystemEntries(run).Any(), "the run folder must stay empty");
    }

    [Theory]
    [InlineData("quadrature.symmetry=C2", "quadrature.symmetry")]
    public void SettingsThisVersionCannotHonourAreRefusedBeforeAnythingIsWritten(string set, string key)
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"), 50);
        string run = dir.File("run");
        var e = Assert.Throws<ConfigException>(() => ReconstructJob.Run(new ReconstructRequest(sim.StarPath, run, Quick(5, set)), Logger.None, cancel: TestContext.Current.CancellationToken));
        Assert.Contains(key, e.Message);
        Assert.Contains("not supported", e.Message);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void CancellingStopsBetweenIterationsAndStillWritesEveryOutput()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"), 120);
        using var cancel = new CancellationTokenSource();
        string run = dir.File("run");
        var result = ReconstructJob.Run(new ReconstructRequest(sim.StarPath, run, Quick(200, "data.testSetSize=10")), Logger.None,
            p => { if (p.Iteration == 5) cancel.Cancel(); }, cancel.Token);
        Assert.Equal(StopReason.Cancelled, result.Reason);
        Assert.Equal(5, result.Iterations);
        Assert.True(File.Exists(result.MapPath));
        Assert.Equal(120, ParticleTable.Read(result.ParticlesStarPath).Count);
        Assert.Equal(5, MetricsLog.Read(Path.Combine(run, "metrics.jsonl")).Count);
    }

    [Fact]
    public void ImportanceSamplingEvaluatesAFractionOfTheGridAndStillImprovesTheMap()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"), 400);
        string run = dir.File("run");
        var result = ReconstructJob.Run(new ReconstructRequest(sim.StarPath, run, Quick(150, "importanceSampling.enabled=true")), Logger.None,
            cancel: TestContext.Current.CancellationToken);
        string truth = Path.Combine(dir.File("data"), SimulateJob.TruthName);
        double start = AlignedMeanFsc(truth, Path.Combine(run, "iterations", "map_000000.mrc"), 8);
        double final = AlignedMeanFsc(truth, result.MapPath, 8);
        Assert.True(final > start + 0.15 && final > 0.6, $"mean FSC over shells 1-8: start {start:F3}, final {final:F3}");
        var metrics = MetricsLog.Read(Path.Combine(run, "metrics.jsonl"));
        // first visits evaluate the full grid; once particles have been seen, only a fraction
        Assert.Equal(1.0, metrics[0].QuadratureFraction, 9);
        Assert.True(metrics[^1].QuadratureFraction < 0.5, $"last iteration evaluated {metrics[^1].QuadratureFraction:P2} of the grid");
        Assert.True(Directory.Exists(Path.Combine(run, "state")));
    }

    [Fact]
    public void TheRunEndsByWritingItsReport()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"), 60);
        string run = dir.File("run");
        ReconstructJob.Run(new ReconstructRequest(sim.StarPath, run, Quick(6, "data.testSetSize=10")), Logger.None, cancel: TestContext.Current.CancellationToken);
        string html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("final map", html);
        Assert.Contains("data-series=\"objective\" data-points=\"6\"", html);
        Assert.Contains("60 particles", html);
    }

    [Fact]
    public void AReportThatCannotBeWrittenIsAWarningAndTheRunStillSucceeds()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.File("data"), 60);
        string run = dir.File("run");
        Directory.CreateDirectory(Path.Combine(run, "report.html")); // a folder where the page should go: the final rename fails
        using var log = new LogCapture();
        var result = ReconstructJob.Run(new ReconstructRequest(sim.StarPath, run, Quick(4, "data.testSetSize=10")), log.Logger, cancel: TestContext.Current.CancellationToken);
        Assert.Equal(StopReason.MaxIterations, result.Reason);
        Assert.True(File.Exists(result.MapPath));
        Assert.Contains(log.Messages(Serilog.Events.LogEventLevel.Warning), m => m.Contains("run report could not be written"));
        Assert.Empty(Directory.EnumerateFiles(run, "*.tmp"));
    }
}
