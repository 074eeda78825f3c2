using CryoFlow.Formats.Star;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Star;

public class StarStreamWriterTests
{
    [Fact]
    public void StreamedLoopMatchesTheDocumentWriter()
    {
        var doc = new StarDocument(StarVersions.Relion31);
        var head = doc.AddBlock("general");
        head.SetValue("rlnFinalResolution", "4.5");
        var loop = new StarTable("rlnImageName", "rlnComment");
        string[][] rows = [["1@a b.mrcs", ""], ["2@x.mrcs", "two words"], ["3@x.mrcs", "'quoted'"]];
        foreach (var r in rows) loop.AddRow(r);
        doc.AddBlock("particles", loop);

        using var dir = new TempDir();
        doc.Write(dir.File("doc.star"));
        using (var w = StarStreamWriter.Create(dir.File("stream.star"), StarVersions.Relion31))
        {
            w.WriteBlock(doc.Blocks[0]);
            w.BeginLoop("particles", ["rlnImageName", "rlnComment"]);
            foreach (var r in rows) w.WriteRow(r);
            Assert.Equal(3, w.RowCount);
            w.Complete();
        }
        Assert.Equal(File.ReadAllBytes(dir.File("doc.star")), File.ReadAllBytes(dir.File("stream.star")));
    }

    [Fact]
    public void RowWithTheWrongWidthIsRefused()
    {
        using var dir = new TempDir();
        using var w = StarStreamWriter.Create(dir.File("x.star"), null);
        w.BeginLoop("t", ["a", "b"]);
        Assert.Throws<ArgumentException>(() => w.WriteRow(["1"]));
    }
}
