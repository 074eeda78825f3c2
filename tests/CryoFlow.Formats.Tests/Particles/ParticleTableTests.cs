using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;

namespace CryoFlow.Formats.Tests.Particles;

public class ParticleTableTests
{
    private const string File = "p.star";

    private static ParticleTable Table(string text, ParticleReadOptions? options = null) =>
        ParticleTable.FromStar(StarReader.Parse(text, File), options);

    private static StarFormatException Fails(string text) => Assert.Throws<StarFormatException>(() => Table(text));

    private const string Optics31 = """
        # version 30001
        data_optics
        loop_
        _rlnOpticsGroup
        _rlnVoltage
        _rlnSphericalAberration
        _rlnAmplitudeContrast
        _rlnImagePixelSize
        _rlnImageSize
        1 300 2.7 0.1 1.5 128
        2 200 2.0 0.07 2.0 64

        """;

    [Fact]
    public void MissingImageNameNamesFileBlockLineAndColumn()
    {
        var e = Fails("data_particles\n\nloop_\n_rlnDefocusU\n1000\n");
        Assert.Equal(new DataLocation(File, "rlnImageName", Line: 3, Block: "particles"), e.Where);
        Assert.Contains("p.star", e.Message);
        Assert.Contains("data_particles", e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("rlnImageName", e.Message);
    }

    [Fact]
    public void MissingImageNameIn30StyleFileNamesItsBlock()
    {
        var e = Fails("data_\nloop_\n_rlnDefocusU\n1000\n");
        Assert.Equal("", e.Where.Block);
        Assert.Equal("rlnImageName", e.Where.Field);
    }

    [Theory]
    [InlineData("0@a.mrcs", "start at 1")]
    [InlineData("000@a.mrcs", "start at 1")]
    [InlineData("x@a.mrcs", "not a whole number")]
    [InlineData("-1@a.mrcs", "not a whole number")]
    [InlineData("1.5@a.mrcs", "not a whole number")]
    [InlineData("@a.mrcs", "no image number")]
    [InlineData("3@", "no stack path")]
    [InlineData("99999999999@a.mrcs", "too large")]
    public void BadImageNumbersAreRefusedWithLineAndColumn(string name, string why)
    {
        var e = Fails($"data_\nloop_\n_rlnImageName\n_rlnMicrographName\n1@a.mrcs 1\n{name} 2\n");
        Assert.Equal(6, e.Where.Line);
        Assert.Equal(1, e.Where.Record);
        Assert.Equal("rlnImageName", e.Where.Field);
        Assert.Contains(why, e.Message);
        Assert.Contains(name, e.Message);
        Assert.Contains("p.star", e.Message);
    }

    [Fact]
    public void ImageNumbersAreOneBasedWithLeadingZerosAllowed()
    {
        var t = Table("data_\nloop_\n_rlnImageName\n000025@Extract/job1/a.mrcs\nsingle.mrc\n");
        Assert.Equal(new ParticleRef("Extract/job1/a.mrcs", 24), t[0].Image);
        Assert.Equal(new ParticleRef("single.mrc", 0), t[1].Image); // no '@': a single-image file
        Assert.Equal("000025@Extract/job1/a.mrcs", t[0].Image.ToImageName());
    }

    [Fact]
    public void BadNumberInADefocusColumnNamesLineAndColumn()
    {
        var e = Fails("data_\nloop_\n_rlnImageName\n_rlnDefocusU\n_rlnVoltage\n_rlnSphericalAberration\n1@a 1000 300 2.7\n2@a abc 300 2.7\n");
        Assert.Equal(new DataLocation(File, "rlnDefocusU", Record: 1, Line: 8, Block: "", Expected: "a number", Found: "'abc'"), e.Where);
    }

    [Fact]
    public void PerParticleValuesOverrideTheOpticsGroup()
    {
        var t = Table(Optics31 + """
            data_particles
            loop_
            _rlnImageName
            _rlnOpticsGroup
            _rlnDefocusU
            _rlnVoltage
            _rlnImagePixelSize
            1@a.mrcs 1 10000 120 1.25
            """);
        var p = t[0];
        Assert.Equal(120, p.Ctf!.Value.VoltageKv);      // particle row wins
        Assert.Equal(2.7, p.Ctf.Value.SphericalAberrationMm); // optics otherwise
        Assert.Equal(1.25, p.PixelSizeAngst);
        Assert.Equal(1.5, p.Optics.PixelSizeAngst);
    }

    [Fact]
    public void CtfDefaultsFollowRelion()
    {
        var t = Table(Optics31 + "data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n_rlnDefocusU\n1@a 2 12345\n");
        var ctf = t[0].Ctf!.Value;
        Assert.Equal(new Numerics.Ctf.CtfParameters(12345, 12345, 0, 200, 2.0, 0.07, 0, 0, 1), ctf);
        Assert.Equal(64, t[0].Optics.ImageSize);
        Assert.Equal(2.0, t[0].PixelSizeAngst);
    }

    [Fact]
    public void UnknownOpticsGroupIsRefused()
    {
        var e = Fails(Optics31 + "data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n1@a 3\n");
        Assert.Equal("rlnOpticsGroup", e.Where.Field);
        Assert.Contains("optics group 3", e.Message);
        Assert.Equal(16, e.Where.Line);
    }

    [Fact]
    public void SeveralOpticsGroupsNeedAnOpticsGroupColumn()
    {
        var e = Fails(Optics31 + "data_particles\nloop_\n_rlnImageName\n1@a\n");
        Assert.Equal("rlnOpticsGroup", e.Where.Field);
        Assert.Equal("particles", e.Where.Block);
    }

    [Fact]
    public void MissingVoltageWithACtfIsRefused()
    {
        var e = Fails("data_\nloop_\n_rlnImageName\n_rlnDefocusU\n_rlnSphericalAberration\n1@a 1000 2.7\n");
        Assert.Equal("rlnVoltage", e.Where.Field);
        Assert.Equal(6, e.Where.Line);
    }

    [Fact]
    public void Relion30ShiftsInPixelsBecomeAngstrom()
    {
        var t = Table("data_\nloop_\n_rlnImageName\n_rlnMagnification\n_rlnDetectorPixelSize\n_rlnOriginX\n_rlnOriginY\n_rlnAnglePsi\n1@a 10000 2.5 2 -4 30\n");
        var pose = t[0].Pose!.Value;
        Assert.Equal(2.5, t[0].PixelSizeAngst);          // 10000 * 2.5 / 10000
        Assert.Equal(5.0, pose.OriginXAngst);
        Assert.Equal(-10.0, pose.OriginYAngst);
        Assert.Equal(new Numerics.Geometry.EulerAngles(0, 0, 30), pose.Angles); // missing angles are 0
    }

    [Fact]
    public void PixelShiftsWithoutAPixelSizeAreRefused()
    {
        var e = Fails("data_\nloop_\n_rlnImageName\n_rlnOriginX\n1@a 2\n");
        Assert.Equal("rlnOriginX", e.Where.Field);
        Assert.Contains("--apix", e.Message);
    }

    [Fact]
    public void Relion30FilesGetOneOpticsGroupPerDistinctCombination()
    {
        var t = Table("""
            data_
            loop_
            _rlnImageName
            _rlnVoltage
            _rlnSphericalAberration
            _rlnAmplitudeContrast
            _rlnMagnification
            _rlnDetectorPixelSize
            _rlnDefocusU
            1@a 300 2.7 0.1 10000 1.0 1000
            2@a 300 2.7 0.1 10000 1.0 1100
            3@b 200 2.7 0.1 10000 1.0 1200
            4@b 300 2.7 0.1 20000 1.0 1300
            5@b 300 2.7 0.1 10000 1.0 1400
            """);
        Assert.Equal([1, 1, 2, 3, 1], t.Particles.Select(p => p.Optics.Number));
        Assert.Equal(new OpticsSettings(1.0, null, 300, 2.7, 0.1), t.OpticsGroups[0].Settings);
        Assert.Equal(new OpticsSettings(1.0, null, 200, 2.7, 0.1), t.OpticsGroups[1].Settings);
        Assert.Equal(new OpticsSettings(0.5, null, 300, 2.7, 0.1), t.OpticsGroups[2].Settings);
        Assert.All(t.OpticsGroups, g => Assert.Null(g.SourceRow));
        Assert.Equal(["a", "b"], t.DistinctStackPaths);
        Assert.Same(t[2].Image.StackPath, t[4].Image.StackPath);
    }

    [Fact]
    public void Version50FilesReadLike31()
    {
        var t = Table(Optics31.Replace("30001", "50001") + "data_particles\nloop_\n_rlnImageName\n_rlnOpticsGroup\n_rlnOriginXAngst\n1@a 1 1.5\n");
        Assert.Equal(50001, t.Source.Version);
        Assert.Equal(1.5, t[0].Pose!.Value.OriginXAngst);
        Assert.Equal(1.5, t[0].PixelSizeAngst);
    }

    [Fact]
    public void ZeroPixelSizeIsRefused()
    {
        var e = Fails("data_\nloop_\n_rlnImageName\n_rlnMagnification\n_rlnDetectorPixelSize\n1@a 0 5\n");
        Assert.Equal("rlnMagnification", e.Where.Field);
    }

    [Fact]
    public void ParticleBlockIsFoundByNameOrByItsImageColumn()
    {
        var t = Table("data_general\n_rlnX 1\n\ndata_other\nloop_\n_rlnA\n1\n\ndata_picked\nloop_\n_rlnImageName\n1@s\n");
        Assert.Equal("picked", t.ParticleBlock.Name);
        Assert.Equal(1, t.Count);
    }

    [Fact]
    public void FileWithoutAnyLoopIsRefused()
    {
        var e = Fails("data_general\n_rlnX 1\n");
        Assert.Equal("rlnImageName", e.Where.Field);
        Assert.Contains("no particle table", e.Message);
    }
}
