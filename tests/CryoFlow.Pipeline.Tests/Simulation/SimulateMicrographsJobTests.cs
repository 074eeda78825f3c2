using CryoFlow.Formats.Coordinates;
using CryoFlow.Formats.Micrographs;
using CryoFlow.Formats.Mrc;
using CryoFlow.Numerics.Simulation;
using CryoFlow.Pipeline.Simulation;
using CryoFlow.Pipeline.Stages.Extract;
using CryoFlow.Pipeline.Tests.Stages.Extract;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Simulation;

/// <summary>Simulated micrographs: dark protein, picks at the particles, CTF as written, deterministic.</summary>
public class SimulateMicrographsJobTests
{
    [Fact]
    public void ExtractedParticleMatchesTheRenderedProjectionWithTheMicrographsCtf()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("s"), micrographs: 2, perMicrograph: 5);
        var ctf = MicrographCtfReader.Read(sim.CtfStarPath);
        var plan = Session.Plan(sim, new ExtractOptions { Box = 32, Normalise = false });
        var truth = MrcReader.OpenVolume(sim.TruthPath).ReadVolume();
        var renderer = new ParticleRenderer(truth, 32, sim.PixelSize);
        var ws = renderer.CreateWorkspace();
        var options = new SimulateOptions(dir.File("s"), 1, Box: 32, ShiftSigma: 1, Seed: 3, DefocusMin: 15000, DefocusMax: 25000, Astigmatism: 300);
        var extractor = new ParticleExtractor(plan.Options).CreateWorker();
        var inverted = new ParticleExtractor(plan.Options with { InvertContrast = false }).CreateWorker();
        for (int m = 0; m < 2; m++)
        {
            var placed = plan.Locate(plan.Micrographs[m]);
            using var mic = MrcReader.OpenStack(placed.Input.Path);
            var pixels = mic.ReadImage(0);
            for (int j = 0; j < 5; j++)
            {
                var p = placed.Particles[j];
                var draw = ParticleDraw.Create(options, sim.PixelSize, m * 5 + j);
                var expected = new float[32 * 32];
                renderer.Render(draw.Pose, ctf[m].Ctf, ws, expected);
                var image = new float[32 * 32];
                extractor.Extract(pixels, placed.Width, p.X0, p.Y0, image);
                double r = ImageStats.Correlation(expected, image);
                Assert.True(r > 0.9, $"micrograph {m} particle {j}: correlation {r:F3}");
                inverted.Extract(pixels, placed.Width, p.X0, p.Y0, image);
                Assert.True(ImageStats.Correlation(expected, image) < -0.9, "without inversion the protein is dark");
            }
        }
    }

    [Fact]
    public void TruthStarGivesEachExtractedParticleItsTruePose()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("s"), micrographs: 2, perMicrograph: 4);
        var extracted = ExtractJob.Run(Session.Plan(sim, new ExtractOptions { Box = 32 }), dir.File("s/Particles"), Logger.None, cancel: TestContext.Current.CancellationToken);
        var truth = Formats.Particles.ParticleTable.Read(sim.TruthStarPath);
        var cut = Formats.Particles.ParticleTable.Read(extracted.StarPath);
        Assert.Equal(8, truth.Count);
        var options = new SimulateOptions(dir.File("s"), 1, Box: 32, ShiftSigma: 1, Seed: 3, DefocusMin: 15000, DefocusMax: 25000, Astigmatism: 300);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(Path.GetFileName(cut[i].Image.StackPath), Path.GetFileName(truth[i].Image.StackPath));
            Assert.Equal(cut[i].Image.Index, truth[i].Image.Index);
            Assert.Equal(cut[i].Ctf!.Value.DefocusU, truth[i].Ctf!.Value.DefocusU, 6);
            Assert.Equal(ParticleDraw.Create(options, sim.PixelSize, i).Pose.OriginXAngst, truth[i].Pose!.Value.OriginXAngst, 6);
        }
        // the images resolve from the session folder, where `cryoflow extract --out Particles` writes them
        using var images = new Formats.Particles.ParticleImageReader(truth);
        images.Check(7);
    }

    [Fact]
    public void PicksLieInsideAndTheCtfFileNamesEveryMicrograph()
    {
        using var dir = new TempDir();
        var sim = Session.Simulate(dir.File("s"), micrographs: 3, perMicrograph: 25);
        var sources = CoordinateReader.Catalog(Directory.GetFiles(sim.PicksDirectory));
        Assert.Equal(3, sources.Count);
        foreach (var s in sources)
        {
            var picks = s.Load().Picks;
            Assert.Equal(25, picks.Count);
            Assert.All(picks, p => Assert.InRange(p.X, 32, 256 - 32));
            Assert.Equal(25, picks.Select(p => (p.X, p.Y)).Distinct().Count());
        }
        var assignment = MicrographCtfMatcher.Assign(new MicrographIndex(sim.MicrographPaths), MicrographCtfReader.Read(sim.CtfStarPath));
        Assert.Equal(3, assignment.ByMicrograph.Count);
        Assert.All(assignment.ByMicrograph.Values, c => Assert.InRange(c.Ctf.DefocusU, 15000, 25000));
    }

    [Fact]
    public void SameSeedGivesTheSameMicrographs()
    {
        using var dir = new TempDir();
        var a = Session.Simulate(dir.File("a"), micrographs: 2, snr: 0.1);
        var b = Session.Simulate(dir.File("b"), micrographs: 2, snr: 0.1);
        Assert.Equal(File.ReadAllBytes(a.MicrographPaths[1])[1024..], File.ReadAllBytes(b.MicrographPaths[1])[1024..]);
        Assert.True(a.NoiseSigma > 0);
    }

    [Fact]
    public void TooManyParticlesForTheMicrographAreRefused()
    {
        using var dir = new TempDir();
        Assert.Throws<ArgumentException>(() => Session.Simulate(dir.File("s"), micrographs: 1, perMicrograph: 26));
        Assert.Throws<ArgumentException>(() => Session.Simulate(dir.File("t"), micrographs: 1, size: 100));
    }
}
