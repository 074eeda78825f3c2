using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Formats.Tests.Star;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Particles;

/// <summary>
/// The real STAR files in shared/data/real (PROVENANCE.md), with values read off the text by hand.
/// </summary>
public class RealParticleFileTests
{
    private static string Real(string name) => TestPaths.RealData("real/" + name);

    [Fact]
    public void Empiar10076IsRelion30WithPixelSizeFromDetectorAndMagnification()
    {
        var table = ParticleTable.Read(Real("empiar_10076_7.star"));
        Assert.Null(table.Source.Version);                 // no "# version" line
        Assert.Equal("", table.ParticleBlock.Name);        // "data_"
        Assert.Null(table.OpticsBlock);
        Assert.Equal(7, table.Count);                      // rows 1@ .. 7@
        var g = Assert.Single(table.OpticsGroups);         // every row: 300 2.7 0.07 38168 5
        Assert.Equal(1, g.Number);
        Assert.Null(g.ImageSize);                          // 3.0 files do not record the box
        double apix = 10000.0 * 5 / 38168;                 // rlnDetectorPixelSize 5 µm, rlnMagnification 38168
        Assert.Equal(1.3099979040033536, apix);
        Assert.Equal(apix, g.PixelSizeAngst);
        var p = table[0];
        Assert.Equal(apix, p.PixelSizeAngst);
        // "1@empiar_10076_7.mrc 1 15301.1 14916.4 5.28  300 2.7 0.07 38168 5"
        Assert.Equal(new ParticleRef("empiar_10076_7.mrc", 0), p.Image);
        var ctf = p.Ctf!.Value;
        Assert.Equal(15301.1, ctf.DefocusU);
        Assert.Equal(14916.4, ctf.DefocusV);
        Assert.Equal(5.28, ctf.DefocusAngleDeg);
        Assert.Equal(300, ctf.VoltageKv);
        Assert.Equal(2.7, ctf.SphericalAberrationMm);
        Assert.Equal(0.07, ctf.AmplitudeContrast);
        Assert.Equal(0, ctf.PhaseShiftDeg);                // defaults: no such columns
        Assert.Equal(0, ctf.BFactor);
        Assert.Equal(1, ctf.Scale);
        Assert.Null(p.Pose);
        Assert.Null(p.RandomSubset);
        Assert.Equal(new ParticleRef("empiar_10076_7.mrc", 6), table[6].Image);
        Assert.Equal(14792.7, table[6].Ctf!.Value.DefocusV);
        Assert.Equal(["empiar_10076_7.mrc"], table.DistinctStackPaths);
        Assert.Equal(Path.GetFullPath(Real("empiar_10076_7.mrc")), table.ResolveStackPath(3));
    }

    [Fact]
    public void Relion31HasOpticsPosesAndShiftsInAngstrom()
    {
        var table = ParticleTable.Read(Real("relion31.star"));
        Assert.Equal(30001, table.Source.Version);
        Assert.Equal("particles", table.ParticleBlock.Name);
        Assert.NotNull(table.OpticsBlock);
        Assert.Equal(5, table.Count);
        // optics row: "1 opticsGroup1 0.100000 0.010000 300.000000 2.806000 1.403000 256 2"
        var g = Assert.Single(table.OpticsGroups);
        Assert.Equal(new OpticsGroup(1, "opticsGroup1", new OpticsSettings(2.806, 256, 300, 0.01, 0.1), 0), g);
        var p = table[0];
        Assert.Same(g, p.Optics);
        Assert.Equal(2.806, p.PixelSizeAngst);
        Assert.Equal(new ParticleRef("relion31.mrcs", 0), p.Image);   // "000001@relion31.mrcs"
        var ctf = p.Ctf!.Value;
        Assert.Equal(13108.082418, ctf.DefocusU);
        Assert.Equal(12845.582418, ctf.DefocusV);
        Assert.Equal(-160.39, ctf.DefocusAngleDeg);
        Assert.Equal(300, ctf.VoltageKv);                  // from data_optics
        Assert.Equal(0.01, ctf.SphericalAberrationMm);
        Assert.Equal(0.1, ctf.AmplitudeContrast);
        Assert.Equal(0, ctf.BFactor);
        Assert.Equal(1, ctf.Scale);
        Assert.Equal(0, ctf.PhaseShiftDeg);
        var pose = p.Pose!.Value;
        Assert.Equal(-102.30296, pose.Angles.RotDeg);
        Assert.Equal(82.318041, pose.Angles.TiltDeg);
        Assert.Equal(124.706463, pose.Angles.PsiDeg);
        Assert.Equal(0.019324, pose.OriginXAngst);         // rlnOriginXAngst, already Å
        Assert.Equal(-0.64686, pose.OriginYAngst);
        Assert.Equal(1, p.RandomSubset);
        Assert.Equal(new ParticleRef("relion31.mrcs", 4), table[4].Image);
        Assert.Equal(0.385262, table[4].Pose!.Value.OriginYAngst);
        Assert.Equal(Path.GetFullPath(Real("relion31.mrcs")), table.ResolveStackPath(0));
    }

    [Fact]
    public void ToyProjectionsKeepsItsExtraColumnAndSkipsTheComment()
    {
        var table = ParticleTable.Read(Real("toy_projections.star"));
        Assert.Null(table.Source.Version);                 // only "# Created 2019-11-24 ..." at the top
        Assert.Equal("images", table.ParticleBlock.Name);
        Assert.Equal(1000, table.Count);
        var rows = table.ParticleBlock.Loop!;
        Assert.Equal(9, rows.ColumnCount);
        Assert.Equal("dummyVariable", rows.Label(8));      // not a RELION label, kept
        Assert.Equal("1", rows.GetString(0, 8));
        Assert.Equal("12", rows.GetString(11, 8));         // that row ends with a space
        Assert.Equal("42", rows.GetString(999, 8));
        var g = Assert.Single(table.OpticsGroups);
        Assert.Null(g.PixelSizeAngst);                     // no pixel size anywhere in the file
        Assert.Null(table[0].PixelSizeAngst);
        // "000001@toy_projections.mrcs 0.000000 0.000000 0 300 0.1 0.001 90 1"
        Assert.Equal(new ParticleRef("toy_projections.mrcs", 0), table[0].Image);
        Assert.Equal(new ParticleRef("toy_projections.mrcs", 999), table[999].Image);
        Assert.Equal(new Numerics.Ctf.CtfParameters(0, 0, 0, 300, 0.001, 0.1, PhaseShiftDeg: 90), table[0].Ctf);
        Assert.Null(table[0].Pose);
    }

    [Fact]
    public void ToyProjectionsTakesAPixelSizeFromOptions()
    {
        var table = ParticleTable.Read(Real("toy_projections.star"), new ParticleReadOptions { PixelSizeAngst = 6.0 });
        Assert.Equal(6.0, table[0].PixelSizeAngst);
        Assert.Equal(6.0, table.OpticsGroups[0].PixelSizeAngst);
    }

    [Theory]
    [InlineData("empiar_10076_7.star")]
    [InlineData("relion31.star")]
    [InlineData("toy_projections.star")]
    public void DocumentReadWriteReadIsLossless(string name)
    {
        using var dir = new TempDir();
        var first = StarDocument.Read(Real(name));
        first.Write(dir.File(name));
        StarAssert.SameContent(first, StarDocument.Read(dir.File(name)));
    }

    [Theory]
    [InlineData("empiar_10076_7.star")]
    [InlineData("relion31.star")]
    [InlineData("toy_projections.star")]
    public void ParticleTableSurvivesWriteBack(string name)
    {
        using var dir = new TempDir();
        var before = ParticleTable.Read(Real(name));
        before.WriteStar(dir.File(name));
        var after = ParticleTable.Read(dir.File(name));
        Assert.Equal(30001, after.Source.Version);
        Assert.NotNull(after.OpticsBlock);
        ParticleAssert.SameParticles(before, after);

        // every original column survives, except those RELION's 3.0 -> 3.1 conversion moves or renames
        var moved = new HashSet<string> { "rlnVoltage", "rlnSphericalAberration", "rlnAmplitudeContrast", "rlnDetectorPixelSize", "rlnMagnification" };
        var src = before.ParticleBlock.Loop!;
        var dst = after.ParticleBlock.Loop!;
        foreach (string label in src.Labels.Where(l => before.OpticsBlock is not null || !moved.Contains(l)))
            for (int r = 0; r < src.RowCount; r++)
                Assert.Equal(src.GetString(r, label), dst.GetString(r, label));
        if (before.OpticsBlock is not null)
            StarAssert.SameContent(before.OpticsBlock, after.OpticsBlock!);
    }
}
