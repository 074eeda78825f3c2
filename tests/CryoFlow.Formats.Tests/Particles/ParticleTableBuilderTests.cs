using CryoFlow.Formats.Particles;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Particles;

public class ParticleTableBuilderTests
{
    private static readonly OpticsSettings Optics = new(PixelSizeAngst: 1.34, ImageSize: 64, VoltageKv: 300, SphericalAberrationMm: 2.7, AmplitudeContrast: 0.1);

    [Fact]
    public void ASimulatedTableWritesAndReadsBackTheSame()
    {
        using var dir = new TempDir();
        string path = dir.File("particles.star");
        var b = new ParticleTableBuilder(path);
        int g = b.AddOpticsGroup(Optics);
        var rng = new Random(5);
        for (int i = 0; i < 50; i++)
        {
            var ctf = new CtfParameters(15000 + rng.NextDouble() * 1000, 14000 + rng.NextDouble(), rng.NextDouble() * 180, 300, 2.7, 0.1, BFactor: 10, Scale: 0.9);
            var pose = new Pose(new EulerAngles(rng.NextDouble() * 360 - 180, rng.NextDouble() * 180, rng.NextDouble() * 360 - 180), rng.NextDouble() - 0.5, rng.NextDouble() - 0.5);
            b.Add(g, new ParticleRef("stacks/sim.mrcs", i), ctf, pose, randomSubset: i % 2 + 1);
        }
        var table = b.Build();
        Assert.Equal(50, table.Count);
        Assert.Equal(1.34, table[0].PixelSizeAngst);
        Assert.Equal(64, table[0].Optics.ImageSize);
        Assert.Equal("000050@stacks/sim.mrcs", table.ParticleBlock.Loop!.GetString(49, "rlnImageName"));
        Assert.Equal(Path.Combine(dir.Path, "stacks", "sim.mrcs"), table.Stacks.Candidates("stacks/sim.mrcs")[0].Path);

        ParticleStarWriter.Write(path, table);
        var back = ParticleTable.Read(path);
        ParticleAssert.SameParticles(table, back);
        Assert.Equal(30001, back.Source.Version);
        Assert.Equal(2, back[1].RandomSubset);
    }

    [Fact]
    public void DoublesAreWrittenExactly()
    {
        var b = new ParticleTableBuilder();
        int g = b.AddOpticsGroup(Optics);
        var pose = new Pose(new EulerAngles(Math.PI, Math.E, -1.0 / 3), 0.1 + 0.2, 1e-9);
        b.Add(g, new ParticleRef("s.mrcs", 0), pose: pose);
        Assert.Equal(pose, b.Build()[0].Pose);
    }

    [Fact]
    public void ACtfThatDisagreesWithItsOpticsGroupIsRefused()
    {
        var b = new ParticleTableBuilder();
        int g = b.AddOpticsGroup(Optics);
        Assert.Throws<ArgumentException>(() => b.Add(g, new ParticleRef("s", 0), new CtfParameters(1, 1, 0, 200, 2.7, 0.1)));
    }

    [Fact]
    public void EveryParticleMustGiveTheSameColumns()
    {
        var b = new ParticleTableBuilder();
        int g = b.AddOpticsGroup(Optics);
        b.Add(g, new ParticleRef("s", 0), pose: new Pose(default, 0, 0));
        Assert.Throws<ArgumentException>(() => b.Add(g, new ParticleRef("s", 1)));
    }

    [Fact]
    public void GetOrAddOpticsGroupReusesEqualSettings()
    {
        var b = new ParticleTableBuilder();
        Assert.Equal(1, b.GetOrAddOpticsGroup(Optics));
        Assert.Equal(2, b.GetOrAddOpticsGroup(Optics with { VoltageKv = 200 }));
        Assert.Equal(1, b.GetOrAddOpticsGroup(Optics));
        b.Add(2, new ParticleRef("s", 0));
        var t = b.Build();
        Assert.Equal(2, t.OpticsGroups.Count);
        Assert.Equal(200, t[0].Optics.VoltageKv);
        Assert.Throws<InvalidOperationException>(() => b.Add(1, new ParticleRef("s", 1)));
    }
}
