using CryoFlow.Formats.Star;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Star;

public class StarWriterTests
{
    [Fact]
    public void WritesVersionBlocksLabelsAndRowsAsRelionDoes()
    {
        var doc = new StarDocument(StarVersions.Relion31);
        var optics = new StarTable("rlnOpticsGroup", "rlnVoltage");
        optics.AddRow("1", "300");
        doc.AddBlock("optics", optics);
        var parts = new StarTable("_rlnImageName", "rlnMicrographName");
        parts.AddRow("1@a.mrcs", "with space.mrc");
        parts.AddRow("2@a.mrcs", "");
        doc.AddBlock("particles", parts);
        string text = StarWriter.WriteToString(doc);
        Assert.Equal("""
            # version 30001

            data_optics

            loop_
            _rlnOpticsGroup #1
            _rlnVoltage #2
            1 300

            # version 30001

            data_particles

            loop_
            _rlnImageName #1
            _rlnMicrographName #2
            1@a.mrcs "with space.mrc"
            2@a.mrcs ""


            """.Replace("\r\n", "\n"), text);
    }

    [Fact]
    public void NoVersionLineForAVersionlessDocument()
    {
        var doc = new StarDocument();
        var t = new StarTable("rlnA");
        t.AddRow("1");
        doc.AddBlock("", t);
        Assert.Equal("data_\n\nloop_\n_rlnA #1\n1\n\n", StarWriter.WriteToString(doc));
    }

    [Fact]
    public void WritesPairsThenTheLoop()
    {
        var doc = new StarDocument();
        var b = doc.AddBlock("general");
        b.SetValue("rlnFinalResolution", "3.5");
        b.SetValue("rlnUnknownLabel", "a b");
        Assert.Equal("data_general\n\n_rlnFinalResolution 3.5\n_rlnUnknownLabel \"a b\"\n\n", StarWriter.WriteToString(doc));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("")]
    [InlineData("two words")]
    [InlineData("tab\there")]
    [InlineData("'quoted'")]
    [InlineData("\"dq\"")]
    [InlineData("has \" and ' both")]
    [InlineData("ends with quote\"")]
    [InlineData("say \" hi")]
    [InlineData("#notacomment")]
    [InlineData("_notalabel")]
    [InlineData("data_notablock")]
    [InlineData("loop_")]
    [InlineData(";semi")]
    [InlineData("ünïcödé path/ü.mrcs")]
    public void AnyValueReadsBackUnchanged(string value)
    {
        var doc = new StarDocument();
        var t = new StarTable("rlnA", "rlnB");
        t.AddRow(value, value);
        doc.AddBlock("x", t);
        doc.Blocks[0].SetValue("rlnPair", value);
        var back = StarReader.Parse(StarWriter.WriteToString(doc));
        Assert.Equal(value, back.Blocks[0].Loop!.GetString(0, 0));
        Assert.Equal(value, back.Blocks[0].Loop!.GetString(0, 1));
        Assert.Equal(value, back.Blocks[0].GetValue("rlnPair"));
    }

    [Fact]
    public void ValuesWithLineBreaksAreRefusedWhenSet()
    {
        var t = new StarTable("rlnA");
        Assert.Throws<ArgumentException>(() => t.AddRow("a\nb"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(30001)]
    [InlineData(50001)]
    public void ReadWriteReadIsLosslessForEveryVersion(int? version)
    {
        string v = version is null ? "" : $"# version {version}\n";
        string text = v + """
            data_general
            _rlnPair 'a b'
            loop_
            _rlnX #1
            _rlnExtra #2
            1.000000 ""
            2e-05 'x y'

            data_
            loop_
            _rlnImageName
            _myUnknownColumn
            000001@s.mrcs 42
            """;
        var first = StarReader.Parse(text);
        var second = StarReader.Parse(StarWriter.WriteToString(first));
        StarAssert.SameContent(first, second);
        var third = StarReader.Parse(StarWriter.WriteToString(second));
        Assert.Equal(StarWriter.WriteToString(second), StarWriter.WriteToString(third));
    }

    [Fact]
    public void WriteFileReplacesTheTargetAndLeavesNoTemporaryFiles()
    {
        using var dir = new TempDir();
        string path = dir.File("out.star");
        File.WriteAllText(path, "old contents");
        var doc = StarReader.Parse("data_\nloop_\n_rlnA\n1\n");
        doc.Write(path);
        StarAssert.SameContent(doc, StarReader.ReadFile(path));
        Assert.Equal(["out.star"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AFailedWriteLeavesTheOldTargetIntact()
    {
        using var dir = new TempDir();
        string path = dir.File("out.star");
        File.WriteAllText(path, "old contents");
        var doc = new StarDocument();
        var t = new StarTable("rlnA");
        t.AddRow("1");
        doc.AddBlock("x", t);
        t.RemoveColumn("rlnA"); // rows without columns: the writer refuses half way
        Assert.Throws<InvalidOperationException>(() => doc.Write(path));
        Assert.Equal("old contents", File.ReadAllText(path));
        Assert.Equal(["out.star"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }
}
