using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Star;

namespace CryoFlow.Formats.Tests.Star;

/// <summary>Hostile STAR text: every refusal is a typed error that says where.</summary>
public class StarReaderErrorTests
{
    private const string File = "hostile.star";

    private static StarFormatException Fails(string text) =>
        Assert.Throws<StarFormatException>(() => StarReader.Parse(text, File));

    [Fact]
    public void DuplicateColumnNamesFileBlockLineAndColumn()
    {
        var e = Fails("data_particles\nloop_\n_rlnImageName #1\n_rlnDefocusU #2\n_rlnDefocusU #3\n1@a 1 2\n");
        Assert.Equal(new DataLocation(File, "rlnDefocusU", Line: 5, Block: "particles", Expected: "distinct column labels", Found: "_rlnDefocusU twice"), e.Where);
        Assert.Contains("hostile.star", e.Message);
        Assert.Contains("data_particles", e.Message);
        Assert.Contains("line 5", e.Message);
        Assert.Contains("rlnDefocusU", e.Message);
    }

    [Fact]
    public void ShortRowNamesTheFirstMissingColumn()
    {
        var e = Fails("data_p\nloop_\n_rlnA\n_rlnB\n_rlnC\n1 2 3\n4 5\n");
        Assert.Equal(7, e.Where.Line);
        Assert.Equal("p", e.Where.Block);
        Assert.Equal("rlnC", e.Where.Field);
        Assert.Contains("2 fields", e.Message);
        Assert.Contains("3 columns", e.Message);
    }

    [Fact]
    public void LongRowIsRefused()
    {
        var e = Fails("data_p\nloop_\n_rlnA\n_rlnB\n1 2\n3 4 5\n");
        Assert.Equal(6, e.Where.Line);
        Assert.Contains("3 fields", e.Message);
        Assert.Contains("rlnB", e.Message);
        Assert.Contains("hostile.star", e.Message);
    }

    [Fact]
    public void UnterminatedQuoteNamesLineAndColumn()
    {
        var e = Fails("data_p\nloop_\n_rlnA\n_rlnB\n1 'open ended\n");
        Assert.Equal(5, e.Where.Line);
        Assert.Equal("rlnB", e.Where.Field);
        Assert.Contains("unterminated", e.Message);
    }

    [Fact]
    public void AQuoteFollowedByTextDoesNotClose()
    {
        var e = Fails("data_p\nloop_\n_rlnA\n'abc'def\n");
        Assert.Contains("unterminated", e.Message);
    }

    [Fact]
    public void EmptyFileIsRefused()
    {
        var e = Fails("");
        Assert.Equal(File, e.FilePath);
        Assert.Contains("no data_ block", e.Message);
        Assert.Contains("empty file", e.Message);
    }

    [Fact]
    public void FileWithOnlyCommentsIsRefused()
    {
        var e = Fails("# version 30001\n# nothing here\n\n");
        Assert.Contains("hostile.star", e.Message);
        Assert.Contains("no data_ block", e.Message);
        Assert.Equal(3, e.Where.Line);
    }

    [Fact]
    public void RowsAfterTheBlankLineThatEndedTheLoopAreRefused()
    {
        var e = Fails("data_p\nloop_\n_rlnA\n1\n\n2\n");
        Assert.Equal(6, e.Where.Line);
        Assert.Contains("line 5", e.Message);
    }

    [Fact]
    public void SecondLoopInOneBlockIsRefused()
    {
        var e = Fails("data_p\nloop_\n_rlnA\n1\n\nloop_\n_rlnB\n2\n");
        Assert.Equal(6, e.Where.Line);
    }

    [Fact]
    public void TextBeforeTheFirstBlockIsRefused()
    {
        var e = Fails("hello\ndata_\n");
        Assert.Equal(1, e.Where.Line);
    }

    [Fact]
    public void PairWithoutValueOrWithTwoValuesIsRefused()
    {
        Assert.Equal("rlnA", Fails("data_g\n_rlnA\n").Where.Field);
        Assert.Contains("2 values", Fails("data_g\n_rlnA b c\n").Message);
    }

    [Fact]
    public void DuplicateKeyIsRefused()
    {
        var e = Fails("data_g\n_rlnA 1\n_rlnA 2\n");
        Assert.Equal(3, e.Where.Line);
    }

    [Fact]
    public void BadNumberNamesFileBlockLineColumnAndText()
    {
        var t = StarReader.Parse("data_particles\nloop_\n_rlnImageName\n_rlnDefocusU\n1@a 100\n2@a 1,5\n", File).Blocks[0].Loop!;
        var e = Assert.Throws<StarFormatException>(() => t.GetDouble(1, 1));
        Assert.Equal(new DataLocation(File, "rlnDefocusU", Record: 1, Line: 6, Block: "particles", Expected: "a number", Found: "'1,5'"), e.Where);
        Assert.Contains("1,5", e.Message);
        Assert.Throws<StarFormatException>(() => t.GetInt32(0, 0));
    }

    [Fact]
    public void LabelAfterRowsIsRefused()
    {
        var e = Fails("data_p\nloop_\n_rlnA\n1\n_rlnB\n");
        Assert.Equal("rlnB", e.Where.Field);
    }

    [Fact]
    public void AValueLongerThanACellCanHoldIsRefused()
    {
        var e = Fails("data_p\nloop_\n_rlnA\n_rlnB\n1 " + new string('x', 5_000_000) + "\n");
        Assert.Equal("rlnB", e.Where.Field);
        Assert.Equal(5, e.Where.Line);
    }
}
