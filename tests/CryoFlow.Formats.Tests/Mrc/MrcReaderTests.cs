using System.Numerics;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Mrc;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Mrc;

/// <summary>The random-access reader against raw bytes from the independent test encoder (<see cref="RawMrc"/>).</summary>
public class MrcReaderTests
{
    public static TheoryData<int, bool> ModesAndByteOrders()
    {
        var data = new TheoryData<int, bool>();
        foreach (int mode in new[] { 0, 1, 2, 6, 12, 101 })
        {
            data.Add(mode, false);
            data.Add(mode, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ModesAndByteOrders))]
    public void DecodesEveryReadableModeInBothByteOrdersExactly(int mode, bool bigEndian)
    {
        using var dir = new TempDir();
        const int nx = 6, ny = 5, nz = 3;
        var values = RawMrc.ExactValues(mode, nx * ny * nz, seed: mode * 2 + (bigEndian ? 1 : 0));
        string path = new RawMrc(nx, ny, nz, mode, bigEndian).WithValues(mode, values).WriteTo(dir.File("m.mrcs"));

        using var reader = MrcReader.OpenStack(path);
        Assert.Equal((MrcMode)mode, reader.Header.Mode);
        Assert.Equal(bigEndian, reader.Header.IsBigEndian);
        Assert.Empty(reader.Warnings);
        for (int z = nz - 1; z >= 0; z--)
            Assert.Equal(values.AsSpan(z * nx * ny, nx * ny).ToArray(), reader.ReadImage(z));
    }

    [Theory]
    [MemberData(nameof(ModesAndByteOrders))]
    public void WindowOfAnImageEqualsTheSameRectangleOfTheWholeImage(int mode, bool bigEndian)
    {
        using var dir = new TempDir();
        const int nx = 7, ny = 6, nz = 2; // odd width: 4-bit windows start on either nibble
        var values = RawMrc.ExactValues(mode, nx * ny * nz, seed: 40 + mode);
        string path = new RawMrc(nx, ny, nz, mode, bigEndian).WithValues(mode, values).WriteTo(dir.File("w.mrc"));
        using var reader = MrcReader.OpenStack(path);
        foreach (var (x0, y0, w, h) in new[] { (0, 0, 7, 6), (1, 2, 3, 4), (2, 1, 5, 5), (6, 5, 1, 1), (3, 0, 2, 6) })
        {
            var whole = reader.ReadImage(1);
            var window = new float[w * h];
            reader.ReadWindow(1, x0, y0, w, h, window);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    Assert.Equal(whole[(y0 + y) * nx + x0 + x], window[y * w + x]);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadWindow(0, 5, 0, 3, 1, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadWindow(0, 0, -1, 1, 1, new float[1]));
        Assert.Throws<MrcFormatException>(() => reader.ReadWindow(2, 0, 0, 1, 1, new float[1]));
    }

    [Theory]
    [MemberData(nameof(ModesAndByteOrders))]
    public async Task StreamingReaderDecodesEveryReadableModeInBothByteOrdersExactly(int mode, bool bigEndian)
    {
        const int nx = 6, ny = 5, nz = 3;
        var values = RawMrc.ExactValues(mode, nx * ny * nz, seed: 100 + mode);
        var bytes = new RawMrc(nx, ny, nz, mode, bigEndian).WithValues(mode, values).ToBytes();
        var ct = TestContext.Current.CancellationToken;
        await using var reader = await MrcStreamReader.OpenAsync(new MemoryStream(bytes), "m.mrcs", cancellationToken: ct);
        var got = new List<float>();
        var buffer = new float[nx * ny];
        while (await reader.ReadNextAsync(buffer, ct)) got.AddRange(buffer);
        Assert.Equal(values, got);
    }

    [Fact]
    public void Decodes4BitModeLowNibbleFirst()
    {
        using var dir = new TempDir();
        var raw = new RawMrc(4, 1, 1, 101) { Data = [0x21, 0xF0] };
        using var reader = MrcReader.OpenStack(raw.WriteTo(dir.File("n.mrcs")));
        Assert.Equal([1f, 2f, 0f, 15f], reader.ReadImage(0));
    }

    [Fact]
    public void ReadsInt8AsSigned()
    {
        using var dir = new TempDir();
        var raw = new RawMrc(2, 1, 1, 0) { Data = [0xFF, 0x80] };
        using var reader = MrcReader.OpenStack(raw.WriteTo(dir.File("b.mrcs")));
        Assert.Equal([-1f, -128f], reader.ReadImage(0));
    }

    [Fact]
    public void RefusesOdd4BitSectionNamingTheField()
    {
        using var dir = new TempDir();
        string path = new RawMrc(3, 3, 1, 101) { Data = new byte[5] }.WriteTo(dir.File("odd.mrcs"));
        var e = Assert.Throws<MrcFormatException>(() => MrcReader.OpenStack(path));
        Assert.Equal("NX*NY", e.Where.Field);
        Assert.Equal(path, e.FilePath);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void RefusesComplexModesWithAClearMessage(int mode)
    {
        using var dir = new TempDir();
        string path = new RawMrc(2, 2, 1, mode) { Data = new byte[32] }.WriteTo(dir.File("c.mrc"));
        var e = Assert.Throws<MrcFormatException>(() => MrcReader.OpenVolume(path));
        Assert.Equal("MODE", e.Where.Field);
        Assert.Contains("complex", e.Message);
        Assert.Contains("real-space", e.Message);
    }

    [Fact]
    public void RefusesUnknownModeNamingExpectedAndFound()
    {
        using var dir = new TempDir();
        string path = new RawMrc(2, 2, 1, 7) { Data = new byte[16] }.WriteTo(dir.File("u.mrc"));
        var e = Assert.Throws<MrcFormatException>(() => MrcReader.OpenStack(path));
        Assert.Equal(("MODE", "7", 12L), (e.Where.Field, e.Where.Found, e.Where.ByteOffset));
        Assert.Contains("0, 1, 2, 6, 12 or 101", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FallsBackToTheSaneByteOrderWhenTheStampLies(bool dataBigEndian)
    {
        using var dir = new TempDir();
        var values = RawMrc.ExactValues(2, 8, seed: 5);
        var raw = new RawMrc(4, 2, 1, 2, dataBigEndian).WithValues(2, values);
        // The stamp claims the opposite order.
        raw.Bytes(212, dataBigEndian ? [0x44, 0x44, 0, 0] : [0x11, 0x11, 0, 0]);
        using var reader = MrcReader.OpenStack(raw.WriteTo(dir.File("lie.mrcs")));
        Assert.Equal(dataBigEndian, reader.Header.IsBigEndian);
        Assert.Equal(values, reader.ReadImage(0));
        Assert.Contains(reader.Warnings, w => w.Field == "MACHST" && w.Problem.Contains("swapped"));
    }

    [Fact]
    public void ReadsBigEndianFileWithZeroStampBySanity()
    {
        using var dir = new TempDir();
        var values = RawMrc.ExactValues(1, 8, seed: 6);
        var raw = new RawMrc(4, 2, 1, 1, bigEndian: true).WithValues(1, values).Bytes(212, 0, 0, 0, 0);
        using var reader = MrcReader.OpenStack(raw.WriteTo(dir.File("z.mrcs")));
        Assert.True(reader.Header.IsBigEndian);
        Assert.Equal(values, reader.ReadImage(0));
        Assert.Equal(["MACHST", "MACHST"], reader.Warnings.Select(w => w.Field));
    }

    [Fact]
    public void ToleratesWhatRealFilesDoWithOneWarningEach()
    {
        using var dir = new TempDir();
        // RELION style: no MAP id, zero stamp, NVERSION 0, MZ = NZ; and ISPG 1 on a stack.
        var raw = new RawMrc(2, 2, 4, 2).WithValues(2, new float[16])
            .Bytes(208, 0, 0, 0, 0).Bytes(212, 0, 0, 0, 0).Int(108, 0).Int(36, 4).Int(88, 1);
        string path = raw.WriteTo(dir.File("relion.mrcs"));
        var logged = new List<string>();
        using var reader = MrcReader.OpenStack(path, new ListLogger(logged));
        Assert.Equal(["ISPG", "MACHST", "MAP", "MZ", "NVERSION"], reader.Warnings.Select(w => w.Field!).Order());
        Assert.Equal(reader.Warnings.Count, logged.Count);
        Assert.All(reader.Warnings, w => Assert.Equal(path, w.Where.FilePath));
        Assert.Equal(4, reader.ImageCount);
    }

    [Fact]
    public void WarnsWhenAStackMarkedFileIsOpenedAsVolume()
    {
        using var dir = new TempDir();
        string path = new RawMrc(2, 2, 3, 2).WithValues(2, new float[12]).WriteTo(dir.File("s.mrcs"));
        using var asVolume = MrcReader.OpenVolume(path);
        Assert.Equal(["ISPG"], asVolume.Warnings.Select(w => w.Field));
        using var asStack = MrcReader.OpenStack(path);
        Assert.Empty(asStack.Warnings);
    }

    [Theory]
    [InlineData(0f, 10)]
    [InlineData(50f, 0)]
    [InlineData(-50f, 10)]
    public void ReportsUnknownVoxelSizeAsNullNeverZero(float cellX, int mx)
    {
        using var dir = new TempDir();
        var raw = new RawMrc(10, 10, 1, 2).WithValues(2, new float[100]).Float(40, cellX).Int(28, mx);
        using var reader = MrcReader.OpenStack(raw.WriteTo(dir.File("v.mrcs")));
        Assert.Null(reader.Header.VoxelSizeX);
        Assert.Equal(1.5, reader.Header.VoxelSizeY);
    }

    [Fact]
    public void ReadsVoxelSizePerAxisAndOrigin()
    {
        using var dir = new TempDir();
        var raw = new RawMrc(10, 20, 5, 2, bigEndian: true).WithValues(2, new float[1000])
            .Float(40, 25f).Float(44, 60f).Float(48, 20f).Int(36, 5)
            .Float(196, 1.5f).Float(200, -2.5f).Float(204, 3.25f).Int(88, 1);
        using var reader = MrcReader.OpenVolume(raw.WriteTo(dir.File("o.mrc")));
        var h = reader.Header;
        Assert.Equal((2.5, 3.0, 4.0), (h.VoxelSizeX!.Value, h.VoxelSizeY!.Value, h.VoxelSizeZ!.Value));
        Assert.Equal(new Vector3(1.5f, -2.5f, 3.25f), h.Origin);
        Assert.Equal(["test encoder"], h.Labels);
    }

    [Fact]
    public void SkipsExtendedHeaderAndKeepsItRaw()
    {
        using var dir = new TempDir();
        var ext = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();
        var values = RawMrc.ExactValues(2, 12, seed: 9);
        var raw = new RawMrc(4, 3, 1, 2).WithValues(2, values).WithExtendedHeader(ext, "FEI1");
        string path = raw.WriteTo(dir.File("ext.mrc"));
        using var reader = MrcReader.OpenStack(path);
        Assert.Equal(1024 + 300, reader.Header.DataOffset);
        Assert.Equal("FEI1", reader.Header.ExtTypeText);
        Assert.Equal(ext, reader.Header.ExtendedHeader.ToArray());
        Assert.Equal(values, reader.ReadImage(0));
        Assert.Equal(ext, MrcReader.ReadHeader(path).ExtendedHeader.ToArray());
    }

    [Theory]
    [InlineData(3L)]
    [InlineData(-1L)]
    [InlineData(long.MaxValue)]
    public void RejectsImageIndexPastTheEndNamingTheRecord(long index)
    {
        using var dir = new TempDir();
        string path = new RawMrc(2, 2, 3, 2).WithValues(2, new float[12]).WriteTo(dir.File("s.mrcs"));
        using var reader = MrcReader.OpenStack(path);
        var e = Assert.Throws<MrcFormatException>(() => reader.ReadImage(index, new float[4]));
        Assert.Equal(index, e.Where.Record);
        Assert.Contains("past the end of the stack", e.Message);
        Assert.Contains("0..2", e.Message);
    }

    [Fact]
    public void RefusesReadVolumeOnAFileOpenedAsStack()
    {
        using var dir = new TempDir();
        string path = new RawMrc(2, 2, 3, 2).WithValues(2, new float[12]).WriteTo(dir.File("s.mrcs"));
        using var reader = MrcReader.OpenStack(path);
        Assert.Throws<InvalidOperationException>(() => reader.ReadVolume());
    }

    [Fact]
    public void WarnsAboutTrailingBytesButReadsTheDeclaredData()
    {
        using var dir = new TempDir();
        var values = RawMrc.ExactValues(2, 4, seed: 3);
        var raw = new RawMrc(2, 2, 1, 2).WithValues(2, values);
        File.WriteAllBytes(dir.File("long.mrcs"), [.. raw.ToBytes(), 1, 2, 3]);
        using var reader = MrcReader.OpenStack(dir.File("long.mrcs"));
        Assert.Contains(reader.Warnings, w => w.Problem.Contains("longer"));
        Assert.Equal(values, reader.ReadImage(0));
    }
}
