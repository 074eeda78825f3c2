using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using CryoFlow.Formats.Mrc;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Mrc;

/// <summary>Writer -> reader round trips, header contents and statistics, atomic completion, and mrcfile's verdict.</summary>
public class MrcWriterTests
{
    private static float[] Noise(int count, int seed, double mean = 0.5, double scale = 2)
    {
        var rng = new Random(seed);
        var v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float)(mean + scale * (rng.NextDouble() - 0.5));
        return v;
    }

    private static string WriteStack(string path, int nx, int ny, float[][] images, MrcWriterOptions? options = null)
    {
        using var writer = MrcWriter.CreateStack(path, nx, ny, options);
        foreach (var image in images) writer.AppendImage(image);
        writer.Complete();
        return path;
    }

    [Theory]
    [InlineData(MrcMode.Float32)]
    [InlineData(MrcMode.Float16)]
    public void StackRoundTripsThroughTheReader(MrcMode mode)
    {
        using var dir = new TempDir();
        var images = Enumerable.Range(0, 7).Select(i => Noise(12 * 9, i)).ToArray();
        string path = WriteStack(dir.File("s.mrcs"), 12, 9, images, new MrcWriterOptions { Mode = mode, VoxelSize = 1.25 });

        using var reader = MrcReader.OpenStack(path);
        Assert.Empty(reader.Warnings);
        Assert.Equal((12, 9, 7L, mode), (reader.Width, reader.Height, reader.ImageCount, reader.Header.Mode));
        for (int i = 0; i < images.Length; i++)
        {
            var expected = mode == MrcMode.Float16 ? images[i].Select(v => (float)(Half)v).ToArray() : images[i];
            Assert.Equal(expected, reader.ReadImage(i));
        }
        Assert.Equal(1.25, reader.Header.VoxelSizeX!.Value, 6);
        Assert.Equal(1.25, reader.Header.VoxelSizeY!.Value, 6);
    }

    [Fact]
    public void VolumeRoundTripsThroughTheReader()
    {
        using var dir = new TempDir();
        var voxels = Noise(10 * 11 * 12, 5);
        string path = dir.File("v.mrc");
        MrcWriter.WriteVolume(path, voxels, 10, 11, 12, new MrcWriterOptions { VoxelSize = 2.5, Origin = new Vector3(1, 2, 3) });

        using var reader = MrcReader.OpenVolume(path);
        Assert.Empty(reader.Warnings);
        Assert.Equal(voxels, reader.ReadVolume());
        var h = reader.Header;
        Assert.Equal((1, 12), (h.Ispg, h.Mz));
        Assert.Equal(2.5, h.VoxelSizeZ!.Value, 6);
        Assert.Equal(new Vector3(1, 2, 3), h.Origin);
    }

    [Fact]
    public void HeaderSaysWhatMrc2014Asks()
    {
        using var dir = new TempDir();
        string path = WriteStack(dir.File("h.mrcs"), 4, 3, [Noise(12, 1), Noise(12, 2)], new MrcWriterOptions { VoxelSize = 1.5 });
        var b = File.ReadAllBytes(path);
        int I(int o) => BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(o));
        float F(int o) => BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(o));

        Assert.Equal(1024 + 2 * 12 * 4, b.Length);
        Assert.Equal((4, 3, 2, 2), (I(0), I(4), I(8), I(12)));
        Assert.Equal((4, 3, 1), (I(28), I(32), I(36)));                 // MX = NX, MY = NY, MZ = 1 for a stack
        Assert.Equal((6f, 4.5f, 1.5f), (F(40), F(44), F(48)));          // CELLA = N x voxel size
        Assert.Equal((90f, 90f, 90f), (F(52), F(56), F(60)));
        Assert.Equal((1, 2, 3), (I(64), I(68), I(72)));
        Assert.Equal((0, 0), (I(88), I(92)));                            // ISPG 0, NSYMBT 0
        Assert.Equal(20140, I(108));
        Assert.Equal("MAP ", Encoding.ASCII.GetString(b, 208, 4));
        Assert.Equal(new byte[] { 0x44, 0x44, 0, 0 }, b[212..216]);
        Assert.Equal(1, I(220));
        Assert.StartsWith("CryoFlow", Encoding.ASCII.GetString(b, 224, 80));
        Assert.All(b[304..1024], x => Assert.Equal(0, x));
    }

    [Fact]
    public void HeaderStatisticsMatchTheDataAsStored()
    {
        using var dir = new TempDir();
        var images = Enumerable.Range(0, 50).Select(i => Noise(31 * 17, 100 + i, mean: 1000 + i, scale: 0.01 * (i + 1))).ToArray();
        string path = WriteStack(dir.File("stats.mrcs"), 31, 17, images);

        var all = images.SelectMany(i => i).Select(v => (double)v).ToArray();
        double mean = all.Average();
        double std = Math.Sqrt(all.Sum(v => (v - mean) * (v - mean)) / all.Length);
        var h = MrcReader.ReadHeader(path);
        Assert.Equal((float)all.Min(), h.DMin);
        Assert.Equal((float)all.Max(), h.DMax);
        Assert.Equal((float)mean, h.DMean);
        // A large mean and a small spread: cancellation in sum-of-squares formulas would show here.
        Assert.Equal(std, h.Rms, std * 1e-6);
    }

    [Fact]
    public void Float16StatisticsDescribeTheRoundedValues()
    {
        using var dir = new TempDir();
        var image = new[] { 0.1f, 0.2f, 1000.7f, -3.3f };
        string path = WriteStack(dir.File("half.mrcs"), 2, 2, [image], new MrcWriterOptions { Mode = MrcMode.Float16 });
        var h = MrcReader.ReadHeader(path);
        Assert.Equal((float)(Half)1000.7f, h.DMax);
        Assert.Equal((float)(Half)(-3.3f), h.DMin);
    }

    [Fact]
    public void NeverLeavesAHalfWrittenFileAtTheFinalPath()
    {
        using var dir = new TempDir();
        string path = dir.File("atomic.mrcs");
        File.WriteAllText(path, "previous contents");
        string temp;
        using (var writer = MrcWriter.CreateStack(path, 2, 2))
        {
            writer.AppendImage(new float[4]);
            temp = writer.TempPath;
            Assert.StartsWith(path + ".tmp-", temp);
            Assert.True(File.Exists(temp));
            Assert.Equal("previous contents", File.ReadAllText(path));
        }
        // Disposed without Complete: the temporary file is gone and the old file untouched.
        Assert.False(File.Exists(temp));
        Assert.Equal("previous contents", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));

        WriteStack(path, 2, 2, [new float[4]]);
        Assert.Single(Directory.GetFiles(dir.Path));
        Assert.Equal(1, MrcReader.ReadHeader(path).Nz);
    }

    [Fact]
    public void RefusesToCompleteAVolumeWithMissingSections()
    {
        using var dir = new TempDir();
        using var writer = MrcWriter.CreateVolume(dir.File("v.mrc"), 2, 2, 3);
        writer.AppendImage(new float[4]);
        Assert.Throws<InvalidOperationException>(writer.Complete);
        Assert.Throws<ArgumentException>(() => writer.AppendImage(new float[5]));
    }

    [Fact]
    public void StreamsALongStackWithoutHoldingIt()
    {
        using var dir = new TempDir();
        string path = dir.File("long.mrcs");
        var image = new float[64 * 64];
        long before = GC.GetAllocatedBytesForCurrentThread();
        using (var writer = MrcWriter.CreateStack(path, 64, 64))
        {
            for (int i = 0; i < 2000; i++)
            {
                image[0] = i;
                writer.AppendImage(image);
            }
            writer.Complete();
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 4_000_000, $"allocated {allocated} bytes for a 32 MB stack");
        using var reader = MrcReader.OpenStack(path);
        Assert.Equal(1999f, reader.ReadImage(1999)[0]);
    }

    public static TheoryData<string> ValidatedKinds() => new() { "stack mode 2", "stack mode 12", "volume" };

    [Theory]
    [MemberData(nameof(ValidatedKinds))]
    public void MrcfileValidatesWhatCryoFlowWrites(string kind)
    {
        string python = Peers.RequireMrcfile();
        using var dir = new TempDir();
        string path;
        if (kind == "volume")
        {
            path = dir.File("v.mrc");
            MrcWriter.WriteVolume(path, Noise(16 * 16 * 16, 1, mean: 0.01), 16, 16, 16, new MrcWriterOptions { VoxelSize = 1.7 });
        }
        else
        {
            var mode = kind.EndsWith("12", StringComparison.Ordinal) ? MrcMode.Float16 : MrcMode.Float32;
            path = WriteStack(dir.File("s.mrcs"), 20, 16, Enumerable.Range(0, 9).Select(i => Noise(320, i, mean: 0.01)).ToArray(),
                new MrcWriterOptions { Mode = mode, VoxelSize = 2.806 });
        }
        var result = Peers.Run(python, ["-c", "import mrcfile,sys; sys.exit(0 if mrcfile.validate(sys.argv[1]) else 1)", path],
            timeoutMs: 120_000);
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
