using CryoFlow.TestSupport;

namespace CryoFlow.Cli.Tests.Commands;

public class InspectCommandTests
{
    [Fact]
    public void DescribesTheHandVolumeAsJson()
    {
        var r = CliRunner.Run("inspect", TestPaths.RealData("volumes/hand-vol.mrc"), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var j = r.Json();
        Assert.Equal(64, j.GetProperty("nx").GetInt32());
        Assert.Equal(64, j.GetProperty("nz").GetInt32());
        Assert.Equal(2, j.GetProperty("mode").GetInt32());
        Assert.Equal(1, j.GetProperty("count").GetInt32());
        Assert.Equal(1.0, j.GetProperty("voxelSize")[0].GetDouble());
        // mrcfile/numpy: min -2.8397732, max 6.1306105, mean 0.0010292883
        Assert.Equal(-2.8397732, j.GetProperty("min").GetDouble(), 5);
        Assert.Equal(6.1306105, j.GetProperty("max").GetDouble(), 5);
        Assert.Equal(0.0010292883, j.GetProperty("mean").GetDouble(), 7);
        Assert.Equal("", j.GetProperty("extendedHeaderType").GetString());
        Assert.Equal(0, j.GetProperty("extendedHeaderBytes").GetInt32());
    }

    [Fact]
    public void CountsTheImagesOfARelionStack()
    {
        var r = CliRunner.Run("inspect", TestPaths.RealData("real/relion31.mrcs"), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var j = r.Json();
        Assert.Equal(5, j.GetProperty("count").GetInt32());
        Assert.Equal(256, j.GetProperty("nx").GetInt32());
        Assert.Equal("stack", j.GetProperty("kind").GetString());
    }

    [Fact]
    public void ReportsUnknownVoxelSizeAsNullForAZeroCell()
    {
        // empiar_10076_7.mrc has cell dimensions 0 (PROVENANCE.md): the pixel size must come from the STAR file
        var r = CliRunner.Run("inspect", TestPaths.RealData("real/empiar_10076_7.mrc"), "--json", "--stack");
        Assert.True(r.ExitCode == 0, r.ToString());
        var j = r.Json();
        Assert.Equal(System.Text.Json.JsonValueKind.Null, j.GetProperty("voxelSize").ValueKind);
        Assert.Equal(7, j.GetProperty("count").GetInt32());
        Assert.Equal(320, j.GetProperty("ny").GetInt32());
    }

    [Fact]
    public void ReadsTheEmdbMapVoxelSize()
    {
        var r = CliRunner.Run("inspect", TestPaths.RealData("volumes/EMD-3197.map"), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(11.4, r.Json().GetProperty("voxelSize")[2].GetDouble(), 4);
    }

    [Fact]
    public void TruncatedFileGivesExitTwoAndOneLineNamingTheFile()
    {
        using var dir = new TempDir();
        string path = dir.File("cut.mrc");
        File.WriteAllBytes(path, File.ReadAllBytes(TestPaths.RealData("volumes/hand-vol.mrc")).AsSpan(0, 5000).ToArray());
        var r = CliRunner.Run("inspect", path, "--json");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Out);
        string line = Assert.Single(r.Err.TrimEnd('\n').Split('\n'));
        Assert.Contains(path, line);
        Assert.Contains("shorter", line);
    }

    [Fact]
    public void MissingFileGivesExitTwo()
    {
        var r = CliRunner.Run("inspect", "/nonexistent/x.mrc");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("/nonexistent/x.mrc", r.Err);
    }

    [Fact]
    public void DescribesARelion31StarFile()
    {
        var r = CliRunner.Run("inspect", TestPaths.RealData("real/relion31.star"), "--json", "--check");
        Assert.True(r.ExitCode == 0, r.ToString());
        var j = r.Json();
        Assert.Equal(5, j.GetProperty("particles").GetInt32());
        Assert.Equal(1, j.GetProperty("opticsGroups").GetInt32());
        Assert.Equal(2.806, j.GetProperty("pixelSize").GetDouble(), 6);
        Assert.Equal(256, j.GetProperty("boxSize").GetInt32());
        Assert.Contains("rlnOriginXAngst", j.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(5, j.GetProperty("checkedImages").GetInt32());
    }

    [Fact]
    public void DerivesTheRelion30PixelSizeAndTheBoxFromTheStack()
    {
        // 10000 * rlnDetectorPixelSize / rlnMagnification; the 3.0 file has no rlnImageSize, the stack says 320
        var r = CliRunner.Run("inspect", TestPaths.RealData("real/empiar_10076_7.star"), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var j = r.Json();
        Assert.Equal(7, j.GetProperty("particles").GetInt32());
        Assert.Equal(1.31, j.GetProperty("pixelSize").GetDouble(), 3);
        Assert.Equal(320, j.GetProperty("boxSize").GetInt32());
    }

    [Fact]
    public void ReportsUnknownPixelSizeAsNull()
    {
        var r = CliRunner.Run("inspect", TestPaths.RealData("real/toy_projections.star"), "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var j = r.Json();
        Assert.Equal(1000, j.GetProperty("particles").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, j.GetProperty("pixelSize").ValueKind);
        Assert.Contains("dummyVariable", j.GetProperty("columns").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public void CheckFindsARowPastTheEndOfItsStack()
    {
        using var dir = new TempDir();
        string star = dir.File("bad.star");
        string text = File.ReadAllText(TestPaths.RealData("real/relion31.star"));
        File.Copy(TestPaths.RealData("real/relion31.mrcs"), dir.File("relion31.mrcs"));
        // point the first particle at image 9 of a 5-image stack
        int at = text.IndexOf("@relion31.mrcs", StringComparison.Ordinal);
        int start = text.LastIndexOf(' ', at) + 1;
        File.WriteAllText(star, text[..start] + "000009" + text[at..]);
        var r = CliRunner.Run("inspect", star, "--check");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(star, r.Err);
        Assert.Contains("rlnImageName", r.Err);
        Assert.Contains("000009@relion31.mrcs", r.Err);
    }
}
