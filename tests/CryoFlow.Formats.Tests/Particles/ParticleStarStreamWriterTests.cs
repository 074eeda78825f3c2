using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Particles;

public class ParticleStarStreamWriterTests
{
    private static readonly OpticsSettings Optics = new(1.5, 64, 300, 2.7, 0.1);

    private static (ParticleRef Image, CtfParameters Ctf, Pose Pose, int Subset) ParticleNumber(int i) => (
        new ParticleRef("particles.mrcs", i),
        new CtfParameters(10000 + 17.25 * i, 9900 + 11 * i, i * 7 % 180, 300, 2.7, 0.1, 0, 0, 1),
        new Pose(new EulerAngles(i * 13.5 - 170, i * 7.25 % 180, 33.125 - i), 0.75 * i - 3, -1.5 + 0.25 * i),
        i % 2 + 1);

    [Fact]
    public void StreamedFileIsByteIdenticalToTheBuilderFile()
    {
        using var dir = new TempDir();
        var builder = new ParticleTableBuilder(dir.File("a.star"));
        int g = builder.AddOpticsGroup(Optics);
        using (var w = new ParticleStarStreamWriter(dir.File("b.star"), [Optics], true, true, true))
        {
            for (int i = 0; i < 300; i++)
            {
                var p = ParticleNumber(i);
                builder.Add(g, p.Image, p.Ctf, p.Pose, p.Subset);
                w.Add(1, p.Image, p.Ctf, p.Pose, p.Subset);
            }
            w.Complete();
        }
        ParticleStarWriter.Write(dir.File("a.star"), builder.Build());
        Assert.Equal(File.ReadAllText(dir.File("a.star")), File.ReadAllText(dir.File("b.star")));

        var back = ParticleTable.Read(dir.File("b.star"));
        Assert.Equal(300, back.Count);
        var expected = ParticleNumber(123);
        Assert.Equal(expected.Ctf.DefocusU, back[123].Ctf!.Value.DefocusU, 6);
        Assert.Equal(expected.Pose.Angles.TiltDeg, back[123].Pose!.Value.Angles.TiltDeg, 6);
        Assert.Equal(expected.Pose.OriginXAngst, back[123].Pose!.Value.OriginXAngst, 6);
        Assert.Equal(123, back[123].Image.Index);
        Assert.Equal(1.5, back[123].PixelSizeAngst);
    }

    [Fact]
    public void MicrographAndCoordinateColumnsAreWrittenTheSameByBothWriters()
    {
        using var dir = new TempDir();
        var builder = new ParticleTableBuilder(dir.File("a.star"));
        int g = builder.AddOpticsGroup(Optics);
        using (var w = new ParticleStarStreamWriter(dir.File("b.star"), [Optics], true, false, false, hasOrigin: true))
        {
            for (int i = 0; i < 5; i++)
            {
                var p = ParticleNumber(i);
                var origin = new ParticleOrigin($"Micrographs/mic{i % 2}.mrc", 100 + 10.5 * i, 2000 - i);
                builder.Add(g, p.Image, p.Ctf, origin: origin);
                w.Add(1, p.Image, p.Ctf, origin: origin);
            }
            Assert.Throws<ArgumentException>(() => w.Add(1, ParticleNumber(9).Image, ParticleNumber(9).Ctf));
            w.Complete();
        }
        ParticleStarWriter.Write(dir.File("a.star"), builder.Build());
        Assert.Equal(File.ReadAllText(dir.File("a.star")), File.ReadAllText(dir.File("b.star")));
        var rows = StarDocument.Read(dir.File("b.star")).Get("particles").RequireLoop();
        Assert.Equal("Micrographs/mic1.mrc", rows.GetString(3, RelionLabels.MicrographName));
        Assert.Equal((131.5, 1997.0), (rows.GetDouble(3, RelionLabels.CoordinateX), rows.GetDouble(3, RelionLabels.CoordinateY)));
    }

    [Fact]
    public void AbandonedWriteLeavesThePreviousFileAndNoTemporaryFile()
    {
        using var dir = new TempDir();
        string path = dir.File("p.star");
        File.WriteAllText(path, "previous");
        using (var w = new ParticleStarStreamWriter(path, [Optics], false, false, false))
        {
            w.Add(1, new ParticleRef("s.mrcs", 0));
        }
        Assert.Equal("previous", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void RefusesAParticleThatDoesNotMatchTheColumns()
    {
        using var dir = new TempDir();
        using var w = new ParticleStarStreamWriter(dir.File("p.star"), [Optics], true, false, false);
        Assert.Throws<ArgumentException>(() => w.Add(1, new ParticleRef("s.mrcs", 0)));
        Assert.Throws<ArgumentException>(() => w.Add(1, new ParticleRef("s.mrcs", 0), new CtfParameters(1, 1, 0, 200, 2.7, 0.1)));
    }
}
