using CryoFlow.Formats.Checkpoints;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Checkpoints;

/// <summary>Write-read round trips of checkpoint files; every truncation and flipped byte is refused naming the file.</summary>
public class CheckpointFileTests
{
    private static byte[] Sample()
    {
        var stream = new MemoryStream();
        var w = new CheckpointWriter(stream);
        w.AddText("meta", "{\"iteration\": 12}");
        w.AddFloats("volume", [1.5f, -2, float.Epsilon, float.MaxValue]);
        w.AddDoubles("poses", [Math.PI, double.NegativeInfinity, -0.0]);
        w.Add("empty", []);
        w.Complete();
        return stream.ToArray();
    }

    private static CheckpointContents Parse(byte[] bytes, TempDir dir)
    {
        string path = dir.File("checkpoint.bin");
        File.WriteAllBytes(path, bytes);
        return CheckpointFile.Read(path);
    }

    [Fact]
    public void SectionsReadBackAsWritten()
    {
        using var dir = new TempDir();
        var c = Parse(Sample(), dir);
        Assert.Equal(["meta", "volume", "poses", "empty"], c.Names);
        Assert.Equal("{\"iteration\": 12}", c.Text("meta"));
        Assert.Equal([1.5f, -2, float.Epsilon, float.MaxValue], c.Floats("volume", 4));
        var poses = c.Doubles("poses");
        Assert.Equal(Math.PI, poses[0]);
        Assert.Equal(double.NegativeInfinity, poses[1]);
        Assert.True(double.IsNegative(poses[2]));
        Assert.Equal(0, c.Get("empty").Length);
        Assert.True(c.Contains("meta"));
        Assert.False(c.Contains("nothing"));
    }

    [Fact]
    public void AMissingSectionOrAWrongLengthNamesTheSection()
    {
        using var dir = new TempDir();
        var c = Parse(Sample(), dir);
        var missing = Assert.Throws<CheckpointFormatException>(() => c.Get("history"));
        Assert.Contains("history", missing.Message);
        Assert.Contains(c.Path, missing.Message);
        var wrong = Assert.Throws<CheckpointFormatException>(() => c.Floats("volume", 5));
        Assert.Contains("volume", wrong.Message);
        Assert.Contains("16 bytes", wrong.Message);
    }

    [Fact]
    public void EveryTruncationIsRefused()
    {
        using var dir = new TempDir();
        var bytes = Sample();
        for (int length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<CheckpointFormatException>(() => Parse(bytes[..length], dir));
            Assert.Contains(dir.File("checkpoint.bin"), e.Message);
        }
    }

    [Fact]
    public void EveryFlippedByteIsRefused()
    {
        using var dir = new TempDir();
        var bytes = Sample();
        for (int i = 0; i < bytes.Length; i++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[i] ^= 0x10;
            var e = Assert.Throws<CheckpointFormatException>(() => Parse(damaged, dir));
            Assert.Contains("byte offset", e.Message);
        }
    }

    [Fact]
    public void AnotherFileOrFormatVersionIsRefusedByItsMagicAndVersion()
    {
        using var dir = new TempDir();
        var notOurs = new byte[100];
        "CFPSTATE"u8.CopyTo(notOurs);
        Assert.Contains("magic", Assert.Throws<CheckpointFormatException>(() => Parse(notOurs, dir)).Message);

        var bytes = Sample();
        bytes[8] = 2; // format version 2, header checksum fixed up
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), Formats.State.StateHash64.Compute(bytes.AsSpan(0, 16)));
        var e = Assert.Throws<CheckpointFormatException>(() => Parse(bytes, dir));
        Assert.Contains("version", e.Message);
        Assert.Contains("expected 1, found 2", e.Message);
    }

    [Fact]
    public void TheWriterRefusesARepeatedSectionName()
    {
        var w = new CheckpointWriter(new MemoryStream());
        w.AddText("meta", "a");
        Assert.Throws<ArgumentException>(() => w.AddText("meta", "b"));
    }
}
