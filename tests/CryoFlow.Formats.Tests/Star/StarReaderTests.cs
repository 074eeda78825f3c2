using System.Text;
using CryoFlow.Formats.Star;

namespace CryoFlow.Formats.Tests.Star;

public class StarReaderTests
{
    [Fact]
    public void ReadsSeveralBlocksPairsAndALoopAfterPairsInOneBlock()
    {
        var doc = StarReader.Parse("""
            # version 30001

            data_general

            _rlnFinalResolution   3.5
            _rlnComment 'two words'

            data_model
            _rlnNrClasses 2
            loop_
            _rlnClassDistribution #1
            _rlnReferenceImage #2
            0.25 a.mrc
            0.75 b.mrc

            data_
            loop_
            _rlnImageName
            1@x.mrcs
            """);
        Assert.Equal(30001, doc.Version);
        Assert.Equal(["general", "model", ""], doc.Blocks.Select(b => b.Name));
        Assert.Null(doc.Blocks[0].Loop);
        Assert.Equal("3.5", doc.Blocks[0].GetValue("rlnFinalResolution"));
        Assert.Equal(3.5, doc.Blocks[0].GetDouble("_rlnFinalResolution"));
        Assert.Equal("two words", doc.Blocks[0].GetValue("rlnComment"));
        var model = doc.Get("model");
        Assert.Equal("2", model.GetValue("rlnNrClasses"));
        Assert.Equal(["rlnClassDistribution", "rlnReferenceImage"], model.Loop!.Labels);
        Assert.Equal(0.75, model.Loop.GetDouble(1, 0));
        Assert.Equal("1@x.mrcs", doc.Get("").Loop!.GetString(0, 0));
    }

    [Fact]
    public void NoVersionLineMeansVersionNull()
    {
        var doc = StarReader.Parse("data_\nloop_\n_rlnImageName\n1@a.mrcs\n");
        Assert.Null(doc.Version);
    }

    [Fact]
    public void ReadsVersion50001()
    {
        var doc = StarReader.Parse("\n# version 50001\n\ndata_particles\n\nloop_\n_rlnImageName #1\n1@a.mrcs\n");
        Assert.Equal(StarVersions.Relion50, doc.Version);
    }

    [Fact]
    public void BlankLineEndsALoopAndCommentsAreSkipped()
    {
        var doc = StarReader.Parse("""
            # a comment before everything
            data_a
            ; a semicolon comment
            loop_
            # comment between loop_ and labels
            _rlnX #1
            _rlnY #2
            # comment inside the rows
            1 2
            3 4 # trailing comment
               
            data_b
            loop_
            _rlnZ
            5
            """);
        var a = doc.Get("a").Loop!;
        Assert.Equal(2, a.RowCount);
        Assert.Equal("4", a.GetString(1, 1));
        Assert.Equal(1, doc.Get("b").Loop!.RowCount);
    }

    [Fact]
    public void HashInsideATokenIsLiteral()
    {
        var t = StarReader.Parse("data_\nloop_\n_rlnA\n_rlnB\nx#1 y\n").Blocks[0].Loop!;
        Assert.Equal("x#1", t.GetString(0, 0));
    }

    [Fact]
    public void ReadsSingleAndDoubleQuotedValuesIncludingEmptyOnes()
    {
        var t = StarReader.Parse("""
            data_
            loop_
            _rlnA
            _rlnB
            _rlnC
            'a b' "c 'd' e" ""
            it's "x"y" ''
            """).Blocks[0].Loop!;
        Assert.Equal("a b", t.GetString(0, 0));
        Assert.Equal("c 'd' e", t.GetString(0, 1));
        Assert.Equal("", t.GetString(0, 2));
        Assert.Equal("it's", t.GetString(1, 0));
        Assert.Equal("x\"y", t.GetString(1, 1)); // a quote not followed by whitespace does not close
        Assert.Equal("", t.GetString(1, 2));
    }

    [Fact]
    public void BelBeforeAQuoteKeepsItInsideTheValue()
    {
        var t = StarReader.Parse("data_\nloop_\n_rlnA\n_rlnB\n\"say \a\" hi\" 2\n").Blocks[0].Loop!;
        Assert.Equal("say \" hi", t.GetString(0, 0));
        Assert.Equal("2", t.GetString(0, 1));
    }

    [Fact]
    public void AcceptsCrlfAndAByteOrderMark()
    {
        byte[] bytes = [.. new byte[] { 0xEF, 0xBB, 0xBF }, .. Encoding.UTF8.GetBytes("# version 30001\r\ndata_x\r\n\r\nloop_\r\n_rlnA #1\r\n_rlnB #2\r\n1 'q r'\r\n2 3\r\n\r\n")];
        var doc = StarReader.Read(new MemoryStream(bytes));
        Assert.Equal(30001, doc.Version);
        var t = doc.Get("x").Loop!;
        Assert.Equal(["rlnA", "rlnB"], t.Labels);
        Assert.Equal("q r", t.GetString(0, 1));
        Assert.Equal("3", t.GetString(1, 1));
    }

    [Fact]
    public void ParsesFixedAndScientificNumbersInvariantly()
    {
        var t = StarReader.Parse("data_\nloop_\n_rlnA\n2.587460e+05\n-1.5E-04\n12\n+3.\n").Blocks[0].Loop!;
        Assert.Equal(258746.0, t.GetDouble(0, 0));
        Assert.Equal(-1.5e-4, t.GetDouble(1, 0));
        Assert.Equal(12, t.GetInt32(2, 0));
        Assert.Equal(3.0, t.GetDouble(3, 0));
    }

    [Fact]
    public void RecordsTheLineOfEveryRow()
    {
        var t = StarReader.Parse("data_\n\nloop_\n_rlnA\n# note\n1\n2\n", "f.star").Blocks[0].Loop!;
        Assert.Equal(6, t.LineOf(0));
        Assert.Equal(7, t.LineOf(1));
        Assert.Equal(3, t.LoopLine);
        Assert.Equal("f.star", t.FilePath);
    }

    [Fact]
    public void ReadsAStreamThatReturnsOneByteAtATime()
    {
        string text = "# version 30001\ndata_optics\nloop_\n_rlnOpticsGroup\n1\n\ndata_particles\nloop_\n_rlnImageName\n_rlnDefocusU\n" +
            string.Concat(Enumerable.Range(1, 300).Select(i => $"{i}@s.mrcs {i * 10.5}\n"));
        var doc = StarReader.Read(new OneByteStream(Encoding.UTF8.GetBytes(text)));
        var t = doc.Get("particles").Loop!;
        Assert.Equal(300, t.RowCount);
        Assert.Equal("300@s.mrcs", t.GetString(299, 0));
        Assert.Equal(3150.0, t.GetDouble(299, 1));
    }

    [Fact]
    public void ReadsALineLongerThanTheBuffer()
    {
        string big = new('x', 200_000);
        var t = StarReader.Parse($"data_\nloop_\n_rlnA\n_rlnB\n{big} 1\n").Blocks[0].Loop!;
        Assert.Equal(big, t.GetString(0, 0));
    }

    [Fact]
    public void RepeatedValuesInAColumnAreStoredOnce()
    {
        var t = StarReader.Parse("data_\nloop_\n_rlnA\n_rlnB\nsame 1\nsame 2\nsame 3\n").Blocks[0].Loop!;
        var cells = t.Columns[0].Cells;
        Assert.Equal(cells[0], cells[1]);
        Assert.Equal(cells[1], cells[2]);
        Assert.NotEqual(t.Columns[1].Cells[0], t.Columns[1].Cells[1]);
    }

    [Fact]
    public void AMissingFileIsADataFileNotFoundException()
    {
        using var dir = new CryoFlow.TestSupport.TempDir();
        var e = Assert.Throws<CryoFlow.Formats.Errors.DataFileNotFoundException>(() => StarReader.ReadFile(dir.File("nope.star")));
        Assert.Contains("nope.star", e.Message);
    }

    /// <summary>A stream that returns at most one byte per read.</summary>
    internal sealed class OneByteStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(1, count));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(1, buffer.Length)]);
    }
}
