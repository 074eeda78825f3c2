using CryoFlow.Formats.Mrc;
using CryoFlow.Numerics.Resampling;
using CryoFlow.TestSupport;

namespace CryoFlow.Cli.Tests.Commands;

public class ReportCommandTests
{
    /// <summary>A run folder holding only the final map: hand-vol.mrc Fourier-cropped to <paramref name="box"/>, 2 Å voxels.</summary>
    private static string RunWithMap(TempDir dir, int box = 32)
    {
        float[] hand;
        using (var reader = MrcReader.OpenVolume(TestPaths.RealData("volumes/hand-vol.mrc")))
            hand = FourierResampler.ResampleVolume(reader.ReadVolume(), reader.Width, box);
        string run = dir.File("run");
        Directory.CreateDirectory(run);
        MrcWriter.WriteVolume(Path.Combine(run, "map.mrc"), hand, box, box, box, new MrcWriterOptions { VoxelSize = 2 });
        return run;
    }

    [Fact]
    public void WritesTheReportIntoTheRunFolder()
    {
        using var dir = new TempDir();
        string run = RunWithMap(dir);
        var r = CliRunner.Run("report", run);
        Assert.True(r.ExitCode == 0, r.ToString());
        string page = Path.Combine(run, "report.html");
        Assert.Contains(page, r.Out);
        Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(page));
    }

    [Fact]
    public void WithAReferenceItPrintsTheHandAndTheFscAndDrawsTheCurve()
    {
        using var dir = new TempDir();
        string run = RunWithMap(dir);
        File.Copy(Path.Combine(run, "map.mrc"), dir.File("truth.mrc"));
        string page = dir.File("elsewhere/page.html");
        var r = CliRunner.Run("report", run, "--reference", dir.File("truth.mrc"), "--out", page);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("the original hand of the map matched", r.Out);
        Assert.Contains("resolution at FSC 0.5: 4.00 Å", r.Out);
        string html = File.ReadAllText(page);
        Assert.Contains("data-chart=\"fsc\"", html);
        Assert.Contains("<a href=\"../run/map.mrc\">map.mrc</a>", html);
        Assert.False(File.Exists(Path.Combine(run, "report.html")));
    }

    [Fact]
    public void AReferenceOfAnotherBoxIsBadInput()
    {
        using var dir = new TempDir();
        string run = RunWithMap(dir);
        MrcWriter.WriteVolume(dir.File("truth.mrc"), new float[16 * 16 * 16], 16, 16, 16, new MrcWriterOptions { VoxelSize = 2 });
        var r = CliRunner.Run("report", run, "--reference", dir.File("truth.mrc"));
        Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        Assert.Contains("different boxes", r.Err);
    }

    [Fact]
    public void AMissingRunFolderIsBadInput()
    {
        using var dir = new TempDir();
        var r = CliRunner.Run("report", dir.File("no-such-run"));
        Assert.Equal(ExitCodes.BadInput, r.ExitCode);
        Assert.Contains("no-such-run", r.Err);
    }
}
