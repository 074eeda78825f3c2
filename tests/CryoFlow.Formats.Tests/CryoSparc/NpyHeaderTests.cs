using CryoFlow.Formats.CryoSparc;
using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.Tests.CryoSparc;

public class NpyHeaderTests
{
    private static NpyTestWriter Sample() => new NpyTestWriter(
            new("uid", "<u8"), new("blob/path", "|S16"), new("blob/idx", "<u4"), new("alignments3D/pose", "<f4", 3), new("x", ">f8"))
        .Add(1L, ">a.mrcs", 0L, new[] { 0.1, 0.2, 0.3 }, 1.5)
        .Add(2L, ">b.mrcs", 7L, new[] { -1.0, 0.0, 2.0 }, -2.5);

    private static NpyHeader Header(byte[] bytes) => NpyHeader.Read(new MemoryStream(bytes), "t.cs", bytes.Length);

    private static CryoSparcFormatException Fails(byte[] bytes) => Assert.Throws<CryoSparcFormatException>(() => Header(bytes));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ReadsHeaderVersions1To3(int major)
    {
        var bytes = Sample().ToBytes(major);
        var h = Header(bytes);
        Assert.Equal(major, h.MajorVersion);
        Assert.Equal(2, h.Count);
        Assert.Equal(0, h.DataOffset % 64);
        Assert.Equal(8 + 16 + 4 + 12 + 8, h.RecordSize);               // packed
        Assert.Equal(bytes.Length, h.DataOffset + 2 * h.RecordSize);
        Assert.Equal(["uid", "blob/path", "blob/idx", "alignments3D/pose", "x"], h.Fields.Select(f => f.Name));
        var pose = h.Find("alignments3D/pose")!;
        Assert.Equal(28, pose.Offset);
        Assert.Equal([3], pose.Shape);
        var rec = bytes.AsSpan((int)h.DataOffset + h.RecordSize, h.RecordSize);
        Assert.Equal(">b.mrcs", h.Find("blob/path")!.ReadString(rec));
        Assert.Equal(7, h.Find("blob/idx")!.ReadInteger(rec));
        Assert.Equal(2.0f, pose.ReadDouble(rec, 2));
        Assert.Equal(-2.5, h.Find("x")!.ReadDouble(rec));             // big-endian field
    }

    [Fact]
    public void TruncatedFileSaysHowManyBytesWereExpected()
    {
        var bytes = Sample().ToBytes();
        var e = Fails(bytes[..^5]);
        Assert.Contains("truncated", e.Message);
        Assert.Equal($"{bytes.Length} bytes", e.Where.Expected);
        Assert.Equal($"{bytes.Length - 5} bytes", e.Where.Found);
        Assert.Contains("t.cs", e.Message);
    }

    [Fact]
    public void FileEndingInsideTheHeaderIsRefused()
    {
        var bytes = Sample().ToBytes();
        Assert.Contains("shorter than its NumPy header", Fails(bytes[..40]).Message);
        Assert.Contains("preamble", Fails(bytes[..8]).Message);
        Assert.Contains("empty file", Fails([]).Message);
    }

    [Fact]
    public void CompressedCryoSparcContainerIsRefusedClearly()
    {
        byte[] bytes = [0x95, .. "CSDAT"u8, 1, 0, 0, 0, 0, 0, 0, 0];
        var e = Fails(bytes);
        Assert.Contains("compressed", e.Message);
        Assert.Contains("CSDAT", e.Message);
        Assert.Contains("NUMPY_FORMAT", e.Message);
    }

    [Fact]
    public void TextIsNotANumpyFile()
    {
        var e = Fails("data_\nloop_\n_rlnImageName\n"u8.ToArray());
        Assert.Contains("not a NumPy", e.Message);
        Assert.Equal(0, e.Where.ByteOffset);
    }

    [Fact]
    public void GarbageHeaderIsATypedError()
    {
        var w = Sample();
        Assert.Contains("Python literal", Fails(w.ToBytes(1, "{'descr': [('a', '<f4')], 'shape': (2,) ")).Message);
        Assert.Contains("Python literal", Fails(w.ToBytes(1, "hello world")).Message);
        Assert.Contains("not a dictionary", Fails(w.ToBytes(1, "[1, 2]")).Message);
        Assert.Contains("no 'descr'", Fails(w.ToBytes(1, "{'shape': (2,)}")).Message);
    }

    [Fact]
    public void UnsupportedLayoutsAreRefusedWithReasons()
    {
        var w = Sample();
        Assert.Contains("Fortran", Fails(w.ToBytes(1, w.HeaderDict(fortran: true))).Message);
        Assert.Contains("1-D", Fails(w.ToBytes(1, w.HeaderDict(shape: "(1, 2)"))).Message);
        Assert.Contains("not a record array", Fails(w.ToBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}")).Message);
        var obj = Fails(w.ToBytes(1, "{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (2,)}"));
        Assert.Contains("pickled", obj.Message);
        Assert.Equal("a", obj.Where.Field);
        Assert.Contains("nested", Fails(w.ToBytes(1, "{'descr': [('a', [('b', '<f4')])], 'fortran_order': False, 'shape': (2,)}")).Message);
        Assert.Contains("appears twice", Fails(w.ToBytes(1, "{'descr': [('a', '<f4'), ('a', '<f4')], 'fortran_order': False, 'shape': (0,)}")).Message);
        Assert.Contains("complex", Fails(w.ToBytes(1, "{'descr': [('a', '<c8')], 'fortran_order': False, 'shape': (0,)}")).Message);
    }

    [Fact]
    public void UnknownVersionIsRefused()
    {
        var bytes = Sample().ToBytes();
        bytes[6] = 4;
        var e = Fails(bytes);
        Assert.Equal("4.0", e.Where.Found);
    }

    [Fact]
    public void HugeDeclaredCountIsRefusedBeforeAllocating()
    {
        var w = Sample();
        var e = Fails(w.ToBytes(1, w.HeaderDict(shape: "(9000000000000000000,)")));
        Assert.Contains("t.cs", e.Message);
    }
}
