using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Geometry;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Particles;

public class ParticleStarWriterTests
{
    /// <summary>RELION 3.0 (no optics, pixel origins) with a block before the particles and a column of its own.</summary>
    internal const string Relion30 = """
        data_general
        _rlnComment kept

        data_
        loop_
        _rlnImageName #1
        _rlnVoltage #2
        _rlnSphericalAberration #3
        _rlnAmplitudeContrast #4
        _rlnMagnification #5
        _rlnDetectorPixelSize #6
        _rlnDefocusU #7
        _rlnDefocusV #8
        _rlnDefocusAngle #9
        _rlnOriginX #10
        _rlnOriginY #11
        _rlnAngleRot #12
        _rlnAngleTilt #13
        _rlnAnglePsi #14
        _myColumn #15
        1@a.mrcs 300 2.7 0.1 10000 1.0 1000 900 10 1.5 -2 10 20 30 x
        2@a.mrcs 300 2.7 0.1 10000 1.0 1100 1000 20 -0.25 3 40 50 60 "y z"
        3@b.mrcs 200 2.7 0.1 20000 1.0 1200 1100 30 4 0 70 80 90 w
        """;

    [Fact]
    public void Relion30BecomesRelion31WithTheSamePixelSizesCtfsAndShiftsInAngstrom()
    {
        var before = ParticleTable.FromStar(StarReader.Parse(Relion30, "in.star"));
        var doc = ParticleStarWriter.ToStarDocument(before);
        var after = ParticleTable.FromStar(StarReader.Parse(StarWriter.WriteToString(doc), "out.star"));

        Assert.Equal(30001, after.Source.Version);
        Assert.Equal(["general", "optics", "particles"], after.Source.Blocks.Select(b => b.Name));
        Assert.Equal("kept", after.Source.Get("general").GetValue("rlnComment"));
        ParticleAssert.SameParticles(before, after);
        Assert.Equal(1.5, after[0].Pose!.Value.OriginXAngst);      // 1.5 px * (10000 * 1.0 / 10000) Å/px
        Assert.Equal(2.0, after[2].Pose!.Value.OriginXAngst);      // 4 px * (10000 * 1.0 / 20000) Å/px

        var optics = after.OpticsBlock!.Loop!;
        Assert.Equal(["rlnOpticsGroup", "rlnOpticsGroupName", "rlnAmplitudeContrast", "rlnSphericalAberration", "rlnVoltage",
            "rlnImagePixelSize", "rlnMicrographOriginalPixelSize", "rlnImageDimensionality"], optics.Labels);
        Assert.Equal(2, optics.RowCount);                            // distinct (kV, Å/px): (300, 1.0) twice, (200, 0.5)
        var rows = after.ParticleBlock.Loop!;
        Assert.Equal(["rlnImageName", "rlnDefocusU", "rlnDefocusV", "rlnDefocusAngle", "rlnOriginXAngst", "rlnOriginYAngst",
            "rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi", "myColumn", "rlnOpticsGroup"], rows.Labels);
        Assert.Equal("y z", rows.GetString(1, "myColumn"));
    }

    [Fact]
    public void Relion30ShiftsAreConvertedByEachParticlesPixelSize()
    {
        var before = ParticleTable.FromStar(StarReader.Parse(Relion30));
        Assert.Equal(1.5, before[0].Pose!.Value.OriginXAngst);     // 1 Å/px
        Assert.Equal(2.0, before[2].Pose!.Value.OriginXAngst);     // 0.5 Å/px
        var after = ParticleTable.FromStar(ParticleStarWriter.ToStarDocument(before));
        Assert.Equal(before.Particles.Select(p => p.Pose), after.Particles.Select(p => p.Pose));
        Assert.Equal(before.Particles.Select(p => p.PixelSizeAngst), after.Particles.Select(p => p.PixelSizeAngst));
        Assert.Equal(before.Particles.Select(p => p.Ctf), after.Particles.Select(p => p.Ctf));
    }

    [Fact]
    public void PoseColumnsAreOverwrittenAndNewColumnsAppendedWithoutChangingTheSource()
    {
        using var dir = new TempDir();
        string src = dir.File("in.star");
        File.WriteAllText(src, Relion30.Replace("data_\n", "data_particles\n"));
        var table = ParticleTable.Read(src);
        var poses = new[] { new Pose(new EulerAngles(1, 2, 3), 0.5, -0.5), new Pose(new EulerAngles(4, 5, 6), 1, 2), new Pose(new EulerAngles(7, 8, 9), 0, 0) };
        string dst = dir.File("out.star");
        ParticleStarWriter.Write(dst, table, [.. ParticleColumn.FromPoses(poses), ParticleColumn.FromDoubles("rlnMaxValueProbDistribution", [0.25, 0.5, 0.75])]);

        var back = ParticleTable.Read(dst);
        Assert.Equal(poses, back.Particles.Select(p => p.Pose!.Value));
        var rows = back.ParticleBlock.Loop!;
        Assert.Equal("rlnMaxValueProbDistribution", rows.Label(rows.ColumnCount - 1));
        Assert.Equal(0.75, rows.GetDouble(2, "rlnMaxValueProbDistribution"));
        Assert.Equal(rows.IndexOf("rlnDefocusAngle") + 1, rows.IndexOf("rlnOriginXAngst")); // in place of rlnOriginX
        // the table that was written is untouched
        Assert.Equal("10", table.ParticleBlock.Loop!.GetString(0, "rlnAngleRot"));
        Assert.Equal(10, table[0].Pose!.Value.Angles.RotDeg);
    }

    [Fact]
    public void Relion31PosesCanBeRewrittenAndTheOpticsTableIsKeptAsIs()
    {
        var table = ParticleTable.Read(TestPaths.RealData("real/relion31.star"));
        var poses = table.Particles.Select((p, i) => new Pose(new EulerAngles(i, 2 * i, 3 * i), -i, i)).ToList();
        var doc = ParticleStarWriter.ToStarDocument(table, ParticleColumn.FromPoses(poses));
        var back = ParticleTable.FromStar(StarReader.Parse(StarWriter.WriteToString(doc)));
        Assert.Equal(poses, back.Particles.Select(p => p.Pose!.Value));
        Assert.Equal(table.ParticleBlock.Loop!.Labels, back.ParticleBlock.Loop!.Labels);
        Assert.Equal(table.Particles.Select(p => p.Ctf), back.Particles.Select(p => p.Ctf));
        Tests.Star.StarAssert.SameContent(table.OpticsBlock!, back.OpticsBlock!);
    }

    [Fact]
    public void Version50IsKept()
    {
        var table = ParticleTable.FromStar(StarReader.Parse("# version 50001\ndata_optics\nloop_\n_rlnOpticsGroup\n_rlnImagePixelSize\n1 1.1\n\ndata_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n1@s 1\n"));
        Assert.Equal(50001, ParticleStarWriter.ToStarDocument(table).Version);
    }

    [Fact]
    public void ABoxSizeLearnedFromTheStackIsWrittenToTheOpticsTable()
    {
        var table = ParticleTable.Read(TestPaths.RealData("real/empiar_10076_7.star")).WithImageSize(320);
        Assert.All(table.Particles, p => Assert.Equal(320, p.Optics.ImageSize));
        var back = ParticleTable.FromStar(ParticleStarWriter.ToStarDocument(table));
        Assert.Equal(320, back.OpticsGroups[0].ImageSize);
        Assert.Equal(320, back.OpticsBlock!.Loop!.GetInt32(0, "rlnImageSize"));
    }

    [Fact]
    public void APixelSizeFromOptionsIsWrittenToTheOpticsTable()
    {
        var table = ParticleTable.FromStar(StarReader.Parse("# version 30001\ndata_optics\nloop_\n_rlnOpticsGroup\n1\n\ndata_particles\nloop_\n_rlnImageName\n1@s\n"),
            new ParticleReadOptions { PixelSizeAngst = 1.7 });
        var back = ParticleTable.FromStar(ParticleStarWriter.ToStarDocument(table));
        Assert.Equal(1.7, back[0].PixelSizeAngst);
    }

    [Fact]
    public void ColumnsOfTheWrongLengthAreRefused()
    {
        var table = ParticleTable.Read(TestPaths.RealData("real/relion31.star"));
        Assert.Throws<ArgumentException>(() => ParticleStarWriter.ToStarDocument(table, ParticleColumn.FromDoubles("rlnAngleRot", [1.0])));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(30001)]
    [InlineData(50001)]
    public void ParticleTableSurvivesWriteBackForEveryVersion(int? version)
    {
        string text = version is null
            ? Relion30
            : $"# version {version}\n" + """
                data_optics
                loop_
                _rlnOpticsGroup
                _rlnOpticsGroupName
                _rlnVoltage
                _rlnSphericalAberration
                _rlnAmplitudeContrast
                _rlnImagePixelSize
                _rlnImageSize
                _rlnImageDimensionality
                1 og1 300 2.7 0.1 1.06 256 2
                2 og2 200 2.0 0.07 0.85 320 2

                data_particles
                loop_
                _rlnImageName
                _rlnOpticsGroup
                _rlnDefocusU
                _rlnDefocusV
                _rlnDefocusAngle
                _rlnPhaseShift
                _rlnCtfBfactor
                _rlnAngleRot
                _rlnAngleTilt
                _rlnAnglePsi
                _rlnOriginXAngst
                _rlnOriginYAngst
                _rlnRandomSubset
                _rlnTomoName
                000001@Extract/a.mrcs 1 10000 9000 45 0 5 10 20 30 1.5 -1.5 1 tomo_1
                000002@Extract/a.mrcs 2 11000 9500 -45 90 0 -170.5 179.9 0 0 3.25e-2 2 "a tomo"
                """;
        using var dir = new TempDir();
        var before = ParticleTable.FromStar(StarReader.Parse(text, dir.File("in.star")));
        ParticleStarWriter.Write(dir.File("out.star"), before);
        var after = ParticleTable.Read(dir.File("out.star"));
        ParticleAssert.SameParticles(before, after);
        Assert.Equal(version is null ? 30001 : version, after.Source.Version);
        if (version is not null)
        {
            Tests.Star.StarAssert.SameContent(before.ParticleBlock, after.ParticleBlock);
            Tests.Star.StarAssert.SameContent(before.OpticsBlock!, after.OpticsBlock!);
        }
    }
}
