using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Star;

namespace CryoFlow.Formats.Tests.Star;

public class StarTableTests
{
    [Fact]
    public void AddsRenamesAndRemovesColumns()
    {
        var t = new StarTable("rlnA", "rlnB");
        t.AddRow("1", "2");
        t.AddRow("3", "4");
        int c = t.AddColumn("rlnC", "fill");
        Assert.Equal(2, c);
        Assert.Equal("fill", t.GetString(1, "rlnC"));
        t.RenameColumn("rlnA", "_rlnAA");
        Assert.Equal(["rlnAA", "rlnB", "rlnC"], t.Labels);
        Assert.Equal("3", t.GetString(1, "rlnAA"));
        t.RemoveColumn("rlnB");
        Assert.Equal(["rlnAA", "rlnC"], t.Labels);
        Assert.Equal(1, t.IndexOf("rlnC"));
        Assert.Throws<ArgumentException>(() => t.AddColumn("rlnC"));
        Assert.Throws<ArgumentException>(() => t.RenameColumn("rlnAA", "rlnC"));
    }

    [Fact]
    public void SetDoubleReadsBackExactly()
    {
        var t = new StarTable("rlnA");
        t.AddRow("0");
        foreach (double v in new[] { 0.1, -123.456789012345, 1e-7, 2.5e8, Math.PI })
        {
            t.SetDouble(0, 0, v);
            Assert.Equal(v, t.GetDouble(0, 0));
        }
    }

    [Fact]
    public void CloneIsIndependentOfTheOriginal()
    {
        var t = StarReader.Parse("data_\nloop_\n_rlnA\n1\n2\n").Blocks[0].Loop!;
        var copy = t.Clone();
        copy.SetString(0, 0, "changed");
        t.SetString(1, 0, "also changed");
        Assert.Equal("1", t.GetString(0, 0));
        Assert.Equal("2", copy.GetString(1, 0));
        Assert.Equal("changed", copy.GetString(0, 0));
    }

    [Fact]
    public void RequireColumnNamesTheMissingColumn()
    {
        var t = StarReader.Parse("data_x\n\nloop_\n_rlnA\n1\n", "f.star").Blocks[0].Loop!;
        var e = Assert.Throws<StarFormatException>(() => t.RequireColumn("rlnImageName"));
        Assert.Equal(new DataLocation("f.star", "rlnImageName", Line: 3, Block: "x"), e.Where);
    }

    [Fact]
    public void IntegersAcceptLeadingZerosAndIntegralDecimals()
    {
        var t = StarReader.Parse("data_\nloop_\n_rlnA\n007\n2.000000\n2.5\n").Blocks[0].Loop!;
        Assert.Equal(7, t.GetInt32(0, 0));
        Assert.Equal(2, t.GetInt32(1, 0));
        Assert.Throws<StarFormatException>(() => t.GetInt32(2, 0));
    }
}
