using CryoFlow.Formats.Mrc;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Mrc;

/// <summary>
/// Every MRC file in shared/data, read by CryoFlow and compared with numbers obtained independently:
/// /usr/bin/python3 with mrcfile 1.4.3 and numpy, <c>mrcfile.open(f, permissive=True)</c>, then
/// <c>h.nx/ny/nz/mode/mx/my/mz/cella/ispg/nversion</c>, <c>m.voxel_size</c>, <c>m.data[z, y, x]</c> for the
/// pixels, and <c>d = m.data.astype(float64)</c>, <c>d.min(), d.max(), d.mean(), d.std()</c> for the statistics.
/// </summary>
public class MrcRealFilesTests
{
    private sealed record Expected(
        string File, MrcLayout Layout, int Nx, int Ny, int Nz, MrcMode Mode, double? VoxelSize,
        (int Z, int Y, int X, float Value)[] Pixels, double Min, double Max, double Mean, double Std, string[] WarnedFields);

    private static readonly Expected[] Files =
    [
        // Header: ISPG 1, MZ 7, CELLA 0 (mrcfile voxel_size (0, 0, 0)): a stack stored as a volume, pixel size unknown.
        new("real/empiar_10076_7.mrc", MrcLayout.Stack, 320, 320, 7, MrcMode.Float32, null,
            [(0, 0, 0, 0.6822134256362915f), (0, 160, 160, 0.5420064330101013f), (6, 319, 319, 1.2681007385253906f), (3, 1, 318, -0.3129059076309204f)],
            -4.3495049476623535, 5.534543991088867, -0.00343437067, 1.00514186, ["ISPG", "MZ"]),
        // Header: no MAP id, machine stamp 00 00 00 00, NVERSION 0, ISPG 0, MZ 5, CELLA (256, 256, 5): voxel 1 Å.
        new("real/relion31.mrcs", MrcLayout.Stack, 256, 256, 5, MrcMode.Float32, 1.0,
            [(0, 0, 0, 0.28542500734329224f), (0, 128, 128, 0.3110068440437317f), (4, 255, 255, -0.8011943101882935f), (2, 1, 254, 0.7372770309448242f)],
            -4.383320331573486, 4.400736331939697, 0.0107661735, 1.01305056, ["MACHST", "MAP", "NVERSION", "MZ"]),
        // Header: no MAP id, zero stamp, NVERSION 0, MX 1 and CELLA 1: voxel 1 Å.
        new("real/toy_projections.mrcs", MrcLayout.Stack, 30, 30, 1000, MrcMode.Float32, 1.0,
            [(0, 0, 0, 0f), (0, 15, 15, 1.621686339378357f), (999, 29, 29, 0f), (500, 1, 28, 0f)],
            0.0, 8.852853775024414, 0.200158494, 0.872234081, ["MACHST", "MAP", "NVERSION"]),
        // A clean MRC2014 volume: MAP, 44 44 stamp, NVERSION 20140, ISPG 1, voxel 1 Å.
        new("volumes/hand-vol.mrc", MrcLayout.Volume, 64, 64, 64, MrcMode.Float32, 1.0,
            [(0, 0, 0, -0.0020439783111214638f), (0, 32, 32, 0.06402602791786194f), (63, 63, 63, -0.003053004154935479f), (32, 1, 62, 0.0008707704837433994f)],
            -2.839773178100586, 6.130610466003418, 0.00102928827, 0.104196078, []),
        // EMDB map: stamp 44 41 (old little-endian), NVERSION 0, CELLA 228 over MX 20: 11.4 Å.
        new("volumes/EMD-3197.map", MrcLayout.Volume, 20, 20, 20, MrcMode.Float32, 11.4,
            [(0, 0, 0, -1.8013091087341309f), (0, 10, 10, 2.5838253498077393f), (19, 19, 19, 1.3078573942184448f), (10, 1, 18, -1.3022595643997192f)],
            -4.1337456703186035, 5.576736927032471, 0.783612034, 2.39995291, ["NVERSION"]),
    ];

    public static TheoryData<string> FileNames() => new(Files.Select(f => f.File));

    [Theory]
    [MemberData(nameof(FileNames))]
    public void ReadsRealFileWithTheValuesMrcfileReports(string file)
    {
        var e = Files.Single(f => f.File == file);
        using var reader = MrcReader.Open(TestPaths.RealData(e.File), e.Layout);
        var h = reader.Header;

        Assert.Equal((e.Nx, e.Ny, e.Nz, e.Mode), (h.Nx, h.Ny, h.Nz, h.Mode));
        Assert.Equal(e.Nz, reader.ImageCount);
        Assert.False(h.IsBigEndian);
        if (e.VoxelSize is null)
        {
            Assert.Null(h.VoxelSizeX);
            Assert.Null(h.VoxelSizeY);
        }
        else
        {
            Assert.Equal(e.VoxelSize.Value, h.VoxelSizeX!.Value, 5);
            Assert.Equal(e.VoxelSize.Value, h.VoxelSizeY!.Value, 5);
        }
        Assert.Equal(e.WarnedFields.Order(), reader.Warnings.Select(w => w.Field!).Order());

        var images = new float[e.Nz][];
        for (int z = 0; z < e.Nz; z++) images[z] = reader.ReadImage(z);
        foreach (var (z, y, x, value) in e.Pixels) Assert.Equal(value, images[z][y * e.Nx + x]);

        var all = images.SelectMany(i => i).Select(v => (double)v).ToArray();
        double mean = all.Average();
        double std = Math.Sqrt(all.Sum(v => (v - mean) * (v - mean)) / all.Length);
        Assert.Equal(e.Min, all.Min());
        Assert.Equal(e.Max, all.Max());
        Assert.Equal(e.Mean, mean, 1e-7);
        Assert.Equal(e.Std, std, 1e-6);
    }

    [Theory]
    [MemberData(nameof(FileNames))]
    public async Task StreamingPassMatchesRandomAccessOnRealFile(string file)
    {
        var e = Files.Single(f => f.File == file);
        string path = TestPaths.RealData(e.File);
        using var random = MrcReader.Open(path, e.Layout);
        var ct = TestContext.Current.CancellationToken;
        await using var stream = await MrcStreamReader.OpenAsync(path, e.Layout, cancellationToken: ct);
        var buffer = new float[stream.PixelsPerImage];
        for (int z = 0; z < e.Nz; z++)
        {
            Assert.True(await stream.ReadNextAsync(buffer, ct));
            Assert.Equal(random.ReadImage(z), buffer);
        }
        Assert.False(await stream.ReadNextAsync(buffer, ct));
    }

    [Fact]
    public void ReadsVolumeWholeWithTheSameVoxelsAsSectionBySection()
    {
        using var reader = MrcReader.OpenVolume(TestPaths.RealData("volumes/EMD-3197.map"));
        var volume = reader.ReadVolume();
        Assert.Equal(20 * 20 * 20, volume.Length);
        // m.data[19, 19, 19] and m.data[10, 1, 18] from mrcfile, as above.
        Assert.Equal(1.3078573942184448f, volume[19 * 400 + 19 * 20 + 19]);
        Assert.Equal(-1.3022595643997192f, volume[10 * 400 + 1 * 20 + 18]);
        Assert.Equal(-2, reader.Header.NxStart);
    }

    [Fact]
    public void ReadsHeaderOnlyOfRealStack()
    {
        var h = MrcReader.ReadHeader(TestPaths.RealData("real/empiar_10076_7.mrc"));
        Assert.Equal((320, 320, 7, 1, 7), (h.Nx, h.Ny, h.Nz, h.Ispg, h.Mz));
        // Header statistics as stored (mrcfile h.dmin, h.dmax).
        Assert.Equal(-4.3495049476623535f, h.DMin);
        Assert.Equal(5.534543991088867f, h.DMax);
        Assert.Equal(20141, h.NVersion);
        Assert.Empty(h.Warnings);
    }
}
