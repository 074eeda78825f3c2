using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Particles;

public class ParticleCatalogTests
{
    private const string Relion30 = ParticleStarWriterTests.Relion30 + "\n\ndata_after\n_rlnComment \"also kept\"\n";

    /// <summary>data_optics after the particles, a block before them with rlnImageName that is not the particle block.</summary>
    private const string OpticsLast = """
        # version 30001

        data_picks
        loop_
        _rlnImageName
        _rlnCoordinateX
        9@elsewhere.mrcs 1

        data_particles
        loop_
        _rlnImageName
        _rlnOpticsGroup
        _rlnDefocusU
        1@s.mrcs 2 10000
        2@s.mrcs 1 20000

        data_optics
        loop_
        _rlnOpticsGroup
        _rlnImagePixelSize
        _rlnVoltage
        _rlnSphericalAberration
        1 1.5 300 2.7
        2 1.5 200 2.7
        """;

    public static TheoryData<string> Files => new() { "real/relion31.star", "real/empiar_10076_7.star", "real/toy_projections.star" };

    [Theory]
    [MemberData(nameof(Files))]
    public void AStreamedCatalogHoldsTheParticlesOfTheTable(string file)
    {
        string path = TestPaths.RealData(file);
        var table = ParticleTable.Read(path);
        using var catalog = ParticleCatalog.Read(path);
        SameAsTable(table, catalog);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void WritingBackGivesTheBytesTheTableWriterGives(string file)
    {
        using var dir = new TempDir();
        string path = TestPaths.RealData(file);
        var table = ParticleTable.Read(path);
        using var catalog = ParticleCatalog.Read(path);
        var rot = ParticleColumn.FromDoubles(RelionLabels.AngleRot, table.Count, i => i * 1.25);
        var probability = ParticleColumn.FromDoubles(RelionLabels.MaxValueProbDistribution, table.Count, i => 1.0 / (i + 1));
        ParticleStarWriter.Write(dir.File("table.star"), table, rot, probability);
        catalog.WriteStar(dir.File("catalog.star"), rot, probability);
        Assert.Equal(File.ReadAllBytes(dir.File("table.star")), File.ReadAllBytes(dir.File("catalog.star")));
    }

    [Fact]
    public void ARelion30FileIsConvertedAsTheTableWriterConvertsIt()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("in.star"), Relion30);
        var table = ParticleTable.Read(dir.File("in.star"));
        using var catalog = ParticleCatalog.Read(dir.File("in.star"));
        SameAsTable(table, catalog);
        ParticleStarWriter.Write(dir.File("table.star"), table);
        catalog.WriteStar(dir.File("catalog.star"));
        Assert.Equal(File.ReadAllText(dir.File("table.star")), File.ReadAllText(dir.File("catalog.star")));
        Assert.Contains("also kept", File.ReadAllText(dir.File("catalog.star")));
    }

    [Fact]
    public void OpticsAfterTheParticlesAndAnEarlierImageTableAreHandledAsTheTableDoes()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("in.star"), OpticsLast);
        var table = ParticleTable.Read(dir.File("in.star"));
        using var catalog = ParticleCatalog.Read(dir.File("in.star"));
        Assert.Equal("particles", table.ParticleBlock.Name);
        SameAsTable(table, catalog);
        Assert.Equal(200, catalog[0].Ctf!.Value.VoltageKv);
        ParticleStarWriter.Write(dir.File("table.star"), table);
        catalog.WriteStar(dir.File("catalog.star"));
        Assert.Equal(File.ReadAllText(dir.File("table.star")), File.ReadAllText(dir.File("catalog.star")));
    }

    [Fact]
    public void ASubsetIsWrittenAsItsOriginalRows()
    {
        using var dir = new TempDir();
        string path = TestPaths.RealData("real/relion31.star");
        var table = ParticleTable.Read(path);
        using var catalog = ParticleCatalog.Read(path);
        int[] picked = [0, 2, table.Count - 1];
        var reason = ParticleColumn.FromStrings("rlnCryoFlowRejectReason", ["a", "b c", "d"]);
        ParticleStarWriter.Write(dir.File("table.star"), table.Subset(picked), reason);
        catalog.WriteStar(dir.File("catalog.star"), picked, reason);
        Assert.Equal(File.ReadAllBytes(dir.File("table.star")), File.ReadAllBytes(dir.File("catalog.star")));
        Assert.Throws<ArgumentException>(() => catalog.WriteStar(dir.File("x.star"), [4, 1], reason));
    }

    [Fact]
    public void ABadRowIsReportedWithItsFileLineRecordAndField()
    {
        using var dir = new TempDir();
        string text = "data_particles\nloop_\n_rlnImageName\n_rlnDefocusU\n_rlnVoltage\n_rlnSphericalAberration\n1@s.mrcs 1 300 2.7\n2@s.mrcs oops 300 2.7\n";
        File.WriteAllText(dir.File("bad.star"), text);
        var e = Assert.Throws<StarFormatException>(() => ParticleCatalog.Read(dir.File("bad.star")));
        Assert.Equal(dir.File("bad.star"), e.Where.FilePath);
        Assert.Equal(8, e.Where.Line);
        Assert.Equal(1, e.Where.Record);
        Assert.Equal("rlnDefocusU", e.Where.Field);
    }

    [Fact]
    public void AFileChangedBeforeItIsWrittenBackIsRefused()
    {
        using var dir = new TempDir();
        File.Copy(TestPaths.RealData("real/relion31.star"), dir.File("in.star"));
        using var catalog = ParticleCatalog.Read(dir.File("in.star"));
        File.AppendAllText(dir.File("in.star"), "\n");
        var e = Assert.Throws<CryoFlowDataException>(() => catalog.WriteStar(dir.File("out.star")));
        Assert.Contains("changed", e.Message);
    }

    [Fact]
    public void AppendedParticlesAreReadWhileTheCatalogGrowsAndWrittenAsTheBuilderWritesThem()
    {
        using var dir = new TempDir();
        var optics = new OpticsSettings(1.5, 64, 300, 2.7, 0.1);
        using var catalog = ParticleCatalog.Create([optics], hasCtf: true, hasPoses: false, hasRandomSubset: false, hasOrigin: true, dir.File("none.star"),
            new StackPathResolver(dir.Path));
        var builder = new ParticleTableBuilder();
        int g = builder.AddOpticsGroup(optics);
        for (int i = 0; i < 700; i++)
        {
            var ctf = new CtfParameters(10000 + i, 9000 + i, i % 180, 300, 2.7, 0.1);
            var image = new ParticleRef($"mic{i / 40:D3}.mrcs", i % 40);
            var origin = new ParticleOrigin($"Micrographs/mic{i / 40:D3}.mrc", 100 + i, 200.5);
            catalog.Append(new Particle(image, catalog.Group(1), 1.5, ctf, null, null, i), origin);
            builder.Add(g, image, ctf, origin: origin);
            Assert.Equal(i + 1, catalog.Count);
            Assert.Equal(image, catalog[i].Image);
            Assert.Equal(ctf with { DefocusU = 10000 + i / 2, DefocusV = 9000 + i / 2, DefocusAngleDeg = i / 2 % 180 }, catalog[i / 2].Ctf);
        }
        Assert.Equal(new ParticleOrigin("Micrographs/mic017.mrc", 100 + 699, 200.5), catalog.OriginOf(699));
        Assert.Equal(18, catalog.StackCount);
        ParticleStarWriter.Write(dir.File("builder.star"), builder.Build());
        catalog.WriteStar(dir.File("catalog.star"));
        Assert.Equal(File.ReadAllText(dir.File("builder.star")), File.ReadAllText(dir.File("catalog.star")));
        Assert.Throws<ArgumentException>(() => catalog.Append(new Particle(new ParticleRef("x", 0), catalog.Group(1), 1.5, null, null, null, 700)));
    }

    private static void SameAsTable(ParticleTable table, ParticleCatalog catalog)
    {
        Assert.Equal(table.Count, catalog.Count);
        Assert.Equal(table.HasCtf, catalog.HasCtf);
        Assert.Equal(table.HasPoses, catalog.HasPoses);
        Assert.Equal(table.OpticsGroups, catalog.OpticsGroups);
        for (int i = 0; i < table.Count; i++)
        {
            Assert.Equal(table[i], catalog[i]);
            Assert.Equal(table.ImageLocation(i), catalog.ImageLocation(i));
        }
    }
}

/// <summary>Managed memory, measured alone in the process (other tests allocating at the same time would blur it).</summary>
[Collection(nameof(State.StateMemoryCollection))]
public class ParticleCatalogMemoryTests
{
    [Fact]
    public void ResidentMemoryOfAStreamedCatalogDoesNotHoldTheRows()
    {
        // 50,000 rows: the table keeps every cell; the catalog keeps a few pages and the distinct stack paths
        using var dir = new TempDir();
        using (var w = new StreamWriter(dir.File("big.star")))
        {
            w.Write("# version 30001\n\ndata_optics\n\nloop_\n_rlnOpticsGroup\n_rlnImagePixelSize\n_rlnVoltage\n_rlnSphericalAberration\n1 1.0 300 2.7\n\ndata_particles\n\nloop_\n_rlnImageName\n_rlnOpticsGroup\n_rlnDefocusU\n_rlnDefocusV\n");
            for (int i = 0; i < 50_000; i++) w.Write($"{i % 1000 + 1:D6}@stacks/s{i / 1000:D3}.mrcs 1 {10000 + i} {10001 + i}\n");
        }
        long before = GC.GetTotalMemory(forceFullCollection: true);
        using var catalog = ParticleCatalog.Read(dir.File("big.star"));
        long held = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.Equal(50_000, catalog.Count);
        Assert.Equal(10000 + 49_999, catalog[49_999].Ctf!.Value.DefocusU);
        Assert.True(held < 2_000_000, $"the catalog holds {held:N0} managed bytes for 50,000 particles");
    }

    [Fact]
    public void TheScratchFileLeavesNothingInTheTempFolderEvenIfTheProcessIsKilled()
    {
        // on Unix the file is unlinked as soon as it is open: a SIGKILLed run cannot leave it behind
        Assert.SkipWhen(OperatingSystem.IsWindows(), "Windows deletes it on close instead");
        using var catalog = ParticleCatalog.Read(TestPaths.RealData("real/relion31.star"));
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $"cryoflow-catalog-{Environment.ProcessId}-*"));
        Assert.Equal(ParticleTable.Read(TestPaths.RealData("real/relion31.star"))[0], catalog[0]);
    }
}
