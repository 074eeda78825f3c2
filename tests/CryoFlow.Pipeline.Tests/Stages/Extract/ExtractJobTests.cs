using CryoFlow.Formats.Micrographs;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Pipeline.Simulation;
using CryoFlow.Pipeline.Stages.Extract;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Stages.Extract;

/// <summary>`cryoflow extract` on a small simulated session: stacks, particles.star, counts, and the pixels themselves.</summary>
public class ExtractJobTests
{
    private static readonly ExtractOptions Box32 = new() { Box = 32, Threads = 2 };

    [Fact]
    public void WritesOneStackPerMicrographAndARelion31StarWithCoordinatesAndCtf()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("session"));
        var plan = Session.Plan(sim, Box32);
        var result = ExtractJob.Run(plan, dir.File("out"), Logger.None, cancel: TestContext.Current.CancellationToken);

        Assert.Equal((3, 18L, 0L), (result.Micrographs, result.Particles, result.DroppedAtEdge));
        foreach (int m in new[] { 0, 1, 2 })
        {
            using var stack = MrcReader.OpenStack(dir.File($"out/{SimulateMicrographsJob.MicrographName(m)}_particles.mrcs"));
            Assert.Equal((32, 32, 6L), (stack.Width, stack.Height, stack.ImageCount));
            Assert.Equal(6.0, stack.Header.VoxelSizeX!.Value, 5);
        }
        var table = ParticleTable.Read(result.StarPath);
        Assert.Equal(18, table.Count);
        Assert.True(table.HasCtf);
        Assert.Equal((6.0, 32), (table[0].PixelSizeAngst!.Value, table[0].Optics.ImageSize!.Value));
        using (var images = new ParticleImageReader(table))
            images.Check(17);

        // coordinates are the picks, CTF the micrograph's estimate, micrograph names as given
        var rows = StarDocument.Read(result.StarPath).Get("particles").RequireLoop();
        var ctf = MicrographCtfReader.Read(sim.CtfStarPath);
        var picks = StarDocument.Read(Path.Combine(sim.PicksDirectory, "mic_001_autopick.star")).Blocks[0].RequireLoop();
        for (int k = 0; k < 6; k++)
        {
            Assert.Equal(picks.GetDouble(k, RelionLabels.CoordinateX), rows.GetDouble(6 + k, RelionLabels.CoordinateX));
            Assert.Equal(picks.GetDouble(k, RelionLabels.CoordinateY), rows.GetDouble(6 + k, RelionLabels.CoordinateY));
            Assert.EndsWith("mic_001.mrc", rows.GetString(6 + k, RelionLabels.MicrographName));
            Assert.Equal(ctf[1].Ctf.DefocusU, table[6 + k].Ctf!.Value.DefocusU, 6);
            Assert.Equal(ctf[1].Ctf.DefocusAngleDeg, table[6 + k].Ctf!.Value.DefocusAngleDeg, 6);
        }
        Assert.Equal(ctf[1].Ctf.VoltageKv, table[6].Ctf!.Value.VoltageKv);
    }

    [Fact]
    public void ExtractedParticleIsTheInvertedNormalisedWindowAroundThePick()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("session"), micrographs: 1);
        var result = ExtractJob.Run(Session.Plan(sim, Box32), dir.File("out"), Logger.None, cancel: TestContext.Current.CancellationToken);
        using var mic = MrcReader.OpenStack(sim.MicrographPaths[0]);
        var pixels = mic.ReadImage(0);
        var picks = StarDocument.Read(Path.Combine(sim.PicksDirectory, "mic_000_autopick.star")).Blocks[0].RequireLoop();
        using var stack = MrcReader.OpenStack(dir.File("out/mic_000_particles.mrcs"));
        for (int k = 0; k < 6; k++)
        {
            int x0 = (int)picks.GetDouble(k, RelionLabels.CoordinateX) - 16, y0 = (int)picks.GetDouble(k, RelionLabels.CoordinateY) - 16;
            var window = new float[32 * 32];
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++) window[y * 32 + x] = -pixels[(y0 + y) * mic.Width + x0 + x];
            var particle = stack.ReadImage(k);
            // the particle is an affine image of the inverted window (plane + scale); with no ramp in the window, close to
            // (window - mean) / sd: the correlation is ~1
            Assert.True(ImageStats.Correlation(window, particle) > 0.99, $"particle {k}");
            // background (outside radius 12) normalised
            var bg = Enumerable.Range(0, 1024).Where(i => Math.Pow(i % 32 - 16, 2) + Math.Pow(i / 32 - 16, 2) > 144).Select(i => (double)particle[i]).ToArray();
            Assert.Equal(0, bg.Average(), 4);
            Assert.Equal(1, Math.Sqrt(bg.Select(v => v * v).Average()), 4);
        }
    }

    [Fact]
    public void BinningHalvesTheBoxAndDoublesThePixelSize()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("session"), micrographs: 1);
        var result = ExtractJob.Run(Session.Plan(sim, Box32 with { OutputBox = ExtractOptions.BinnedBox(32, 2) }), dir.File("out"), Logger.None, cancel: TestContext.Current.CancellationToken);
        var table = ParticleTable.Read(result.StarPath);
        Assert.Equal((12.0, 16), (table[0].PixelSizeAngst!.Value, table[0].Optics.ImageSize!.Value));
        using var stack = MrcReader.OpenStack(dir.File("out/mic_000_particles.mrcs"));
        Assert.Equal((16, 6L), (stack.Width, stack.ImageCount));
        Assert.Throws<ArgumentException>(() => ExtractOptions.BinnedBox(32, 3));
    }

    [Fact]
    public void PicksWhoseBoxCrossesAnEdgeAreDroppedAndCounted()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("session"), micrographs: 1);
        string picks = Path.Combine(sim.PicksDirectory, "mic_000_autopick.star");
        var doc = StarDocument.Read(picks);
        var t = doc.Blocks[0].RequireLoop();
        // x = 15: a 32 px box starts at -1 (dropped); 16: starts at 0 (kept); y = 240: rows 224-255 (kept); 241: rows 225-256
        // (dropped); 255.9 is pixel 255 (dropped)
        foreach (var (x, y) in new[] { (15, 100), (16, 100), (100, 240), (100, 241), (255.9, 255.9) })
            t.AddRow(x.ToString(System.Globalization.CultureInfo.InvariantCulture), y.ToString(System.Globalization.CultureInfo.InvariantCulture), "1");
        doc.Write(picks);
        var result = ExtractJob.Run(Session.Plan(sim, Box32), dir.File("out"), Logger.None, cancel: TestContext.Current.CancellationToken);
        Assert.Equal((8L, 3L), (result.Particles, result.DroppedAtEdge));
        Assert.Contains("3 picks too close to an edge", result.Describe());
    }

    [Fact]
    public void UnmatchedMicrographsAndCoordinateFilesAreReportedAndSkipped()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("session"));
        File.Delete(Path.Combine(sim.PicksDirectory, "mic_002_autopick.star"));
        File.WriteAllText(Path.Combine(sim.PicksDirectory, "stray_autopick.star"), "data_\nloop_\n_rlnCoordinateX\n_rlnCoordinateY\n1 2\n");
        var plan = Session.Plan(sim, Box32);
        Assert.Equal(["mic_002.mrc"], plan.Match.MicrographsWithoutPicks.Select(Path.GetFileName));
        Assert.Equal(["stray_autopick.star"], plan.Match.PicksWithoutMicrograph.Select(s => Path.GetFileName(s.SourcePath)));
        Assert.Contains("without a coordinate file (skipped)", plan.Describe());
        var result = ExtractJob.Run(plan, dir.File("out"), Logger.None, cancel: TestContext.Current.CancellationToken);
        Assert.Equal((2, 12L), (result.Micrographs, result.Particles));
        Assert.False(File.Exists(dir.File("out/mic_002_particles.mrcs")));
    }

    [Fact]
    public void MicrographsWithoutCtfAreSkippedWhenCtfIsGiven()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("session"));
        var doc = StarDocument.Read(sim.CtfStarPath);
        var mics = doc.Get("micrographs").RequireLoop();
        var kept = new StarTable(mics.Labels);
        for (int c = 0; c < 2; c++) kept.AddRow(Enumerable.Range(0, mics.ColumnCount).Select(i => mics.GetString(c, i)).ToArray());
        doc.Get("micrographs").Loop = kept;
        doc.Write(sim.CtfStarPath);
        var plan = Session.Plan(sim, Box32);
        Assert.Equal(["mic_002.mrc"], plan.MicrographsWithoutCtf.Select(Path.GetFileName));
        Assert.Equal(2, plan.Micrographs.Count);
    }

    [Fact]
    public void WithoutCtfFilesTheStarHasNoCtfAndThePixelSizeComesFromTheHeader()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("session"), micrographs: 1);
        var result = ExtractJob.Run(Session.Plan(sim, Box32, ctf: false), dir.File("out"), Logger.None, cancel: TestContext.Current.CancellationToken);
        var table = ParticleTable.Read(result.StarPath);
        Assert.False(table.HasCtf);
        Assert.Equal(6.0, table[0].PixelSizeAngst!.Value, 4);
    }

    [Fact]
    public void AnUnreadableMicrographIsReportedAndTheOthersExtracted()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("session"));
        var bytes = File.ReadAllBytes(sim.MicrographPaths[1]);
        File.WriteAllBytes(sim.MicrographPaths[1], bytes[..(bytes.Length / 2)]);
        var result = ExtractJob.Run(Session.Plan(sim, Box32), dir.File("out"), Logger.None, cancel: TestContext.Current.CancellationToken);
        Assert.Equal((2, 12L), (result.Micrographs, result.Particles));
        var failure = Assert.Single(result.FailedMicrographs);
        Assert.EndsWith("mic_001.mrc", failure.Micrograph);
        Assert.Contains("shorter", failure.Reason);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void OutputDoesNotDependOnTheThreadCount(int threads)
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("session"));
        ExtractJob.Run(Session.Plan(sim, Box32 with { Threads = 2 }), dir.File("a"), Logger.None, cancel: TestContext.Current.CancellationToken);
        ExtractJob.Run(Session.Plan(sim, Box32 with { Threads = threads }), dir.File("b"), Logger.None, cancel: TestContext.Current.CancellationToken);
        foreach (string name in new[] { "mic_000_particles.mrcs", "mic_002_particles.mrcs" })
        {
            using var a = MrcReader.OpenStack(dir.File("a/" + name));
            using var b = MrcReader.OpenStack(dir.File("b/" + name));
            for (int k = 0; k < 6; k++) Assert.Equal(a.ReadImage(k), b.ReadImage(k));
        }
        // image names differ only in the output folder
        string Rows(string d) => string.Join('\n', File.ReadAllLines(dir.File(d + "/particles.star")).Select(l => l.Replace(dir.File(d) + "/", "")));
        Assert.Equal(Rows("a"), Rows("b"));
    }

    [Fact]
    public void OnDemandSourceGivesTheSamePixelsAsTheWrittenStack()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("session"), micrographs: 2);
        var options = Box32 with { OutputBox = 16 };
        var plan = Session.Plan(sim, options);
        ExtractJob.Run(plan, dir.File("out"), Logger.None, cancel: TestContext.Current.CancellationToken);
        using var onDemand = ExtractedParticles.Create(plan, Logger.None);
        Assert.Equal(12, onDemand.Table.Count);
        var image = new float[16 * 16];
        for (int i = 11; i >= 0; i--)
        {
            using var stack = MrcReader.OpenStack(dir.File($"out/mic_00{i / 6}_particles.mrcs"));
            onDemand.Images.Read(i, image);
            Assert.Equal(stack.ReadImage(i % 6), image);
        }
        Assert.Equal("000004@mic_001_particles.mrcs", onDemand.Table[9].Image.ToImageName());
        Assert.Equal(plan.Micrographs[1].Ctf!.Ctf.DefocusU, onDemand.Table[9].Ctf!.Value.DefocusU);
    }
}
