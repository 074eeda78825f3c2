using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Formats.Tests.Particles;

public class ParticleImageReaderTests
{
    private static readonly OpticsSettings Optics = new(2.0, 8, 300, 2.7, 0.1);

    /// <summary>Stacks s0..s{n-1}.mrcs of 8x8 images whose pixels encode (stack, image), and a STAR file naming them.</summary>
    private static string MakeDataset(TempDir dir, int stacks, int imagesPerStack, IEnumerable<(string Stack, int Index)>? extraRows = null)
    {
        var builder = new ParticleTableBuilder(dir.File("p.star"));
        int g = builder.AddOpticsGroup(Optics);
        for (int s = 0; s < stacks; s++)
        {
            using (var w = MrcWriter.CreateStack(dir.File($"s{s}.mrcs"), 8, 8, new MrcWriterOptions { VoxelSize = 2 }))
            {
                for (int i = 0; i < imagesPerStack; i++) w.AppendImage(Enumerable.Repeat((float)(100 * s + i), 64).ToArray());
                w.Complete();
            }
            for (int i = 0; i < imagesPerStack; i++) builder.Add(g, new ParticleRef($"s{s}.mrcs", i));
        }
        foreach (var (stack, index) in extraRows ?? []) builder.Add(g, new ParticleRef(stack, index));
        ParticleStarWriter.Write(dir.File("p.star"), builder.Build());
        return dir.File("p.star");
    }

    [Fact]
    public void ReadsTheRealRelionStackImagesTheStarFileNames()
    {
        var table = ParticleTable.Read(TestPaths.RealData("real/relion31.star"));
        using var reader = new ParticleImageReader(table, logger: Logger.None);
        using var direct = MrcReader.OpenStack(TestPaths.RealData("real/relion31.mrcs"), Logger.None);
        var image = new float[256 * 256];
        for (int i = 0; i < table.Count; i++)
        {
            reader.Read(i, image);
            Assert.Equal(direct.ReadImage(table[i].Image.Index), image);
        }
        Assert.Equal((256, 256), reader.ImageSize(0));
    }

    [Fact]
    public void ManyThreadsThroughATinyCacheReadWhatASequentialPassReads()
    {
        using var dir = new TempDir();
        var table = ParticleTable.Read(MakeDataset(dir, 5, 20));
        using var reader = new ParticleImageReader(table, maxOpenStacks: 2, logger: Logger.None);
        var order = Enumerable.Range(0, table.Count).OrderBy(i => (i * 7919) % 101).ToArray();
        Parallel.ForEach(order, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var img = new float[64];
            reader.Read(i, img);
            Assert.All(img, v => Assert.Equal(100 * (i / 20) + i % 20, v));
        });
    }

    [Fact]
    public void RowPastTheEndOfItsStackNamesTheStarFileRowAndStack()
    {
        using var dir = new TempDir();
        string star = MakeDataset(dir, 1, 3, [("s0.mrcs", 7)]);
        var table = ParticleTable.Read(star);
        using var reader = new ParticleImageReader(table, logger: Logger.None);
        var e = Assert.ThrowsAny<CryoFlowDataException>(() => reader.Read(3, new float[64]));
        Assert.Contains(star, e.Message);
        Assert.Contains("rlnImageName", e.Message);
        Assert.Contains("000008@s0.mrcs", e.Message);
        Assert.Contains("record 3", e.Message);
        Assert.NotNull(e.Where.Line);
        Assert.IsType<MrcFormatException>(e.InnerException);
        Assert.Throws<CryoFlowDataException>(() => reader.Check(3));
        reader.Check(2);
    }

    [Fact]
    public void MissingStackListsEveryPlaceTried()
    {
        using var dir = new TempDir();
        string star = MakeDataset(dir, 1, 2, [("gone.mrcs", 0)]);
        var table = ParticleTable.Read(star, new ParticleReadOptions { DataDir = dir.File("extra") });
        using var reader = new ParticleImageReader(table, logger: Logger.None);
        var e = Assert.Throws<DataFileNotFoundException>(() => reader.Read(2, new float[64]));
        Assert.Contains(star, e.Message);
        Assert.Contains("rlnImageName", e.Message);
        Assert.Equal(3, e.Tried.Count);
        Assert.Contains(e.Tried, t => t.Contains(dir.File("extra")));
    }

    [Fact]
    public void TruncatedStackIsATypedErrorNamingTheParticle()
    {
        using var dir = new TempDir();
        string star = MakeDataset(dir, 1, 4);
        using (var f = new FileStream(dir.File("s0.mrcs"), FileMode.Open)) f.SetLength(1024 + 64 * 4 * 2 + 10);
        var table = ParticleTable.Read(star);
        using var reader = new ParticleImageReader(table, logger: Logger.None);
        var e = Assert.ThrowsAny<CryoFlowDataException>(() => reader.Read(0, new float[64]));
        Assert.Contains(star, e.Message);
        Assert.Contains("s0.mrcs", e.Message);
    }

    [Fact]
    public void WrongImageSizeIsATypedError()
    {
        using var dir = new TempDir();
        var table = ParticleTable.Read(MakeDataset(dir, 1, 1));
        using var reader = new ParticleImageReader(table, logger: Logger.None);
        var e = Assert.ThrowsAny<CryoFlowDataException>(() => reader.Read(0, new float[100]));
        Assert.Contains("8 x 8", e.Message);
        Assert.Contains("10 x 10", e.Message);
    }
}
