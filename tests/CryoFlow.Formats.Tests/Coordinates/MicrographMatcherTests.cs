using CryoFlow.Formats.Coordinates;
using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.Tests.Coordinates;

/// <summary>Micrographs paired with picks by name, and a clear account of what could not be paired.</summary>
public class MicrographMatcherTests
{
    private static CoordinateSource FileSet(string file) =>
        CoordinateSource.Of(new(file, Path.GetFileNameWithoutExtension(file), true, CoordinateFormat.EmanBox, [new PickedCoordinate(1, 2, null, 1)]));

    private static CoordinateSource Named(string name, string source = "picks.star") =>
        CoordinateSource.Of(new(source, name, false, CoordinateFormat.RelionStar, [new PickedCoordinate(1, 2, null, 1)]));

    [Fact]
    public void PerMicrographFilesMatchWithOrWithoutASuffix()
    {
        var report = MicrographMatcher.Match(["Mics/mic_1.mrc", "Mics/mic_10.mrc", "Mics/other.mrc"],
            [FileSet("picks/mic_10_autopick.star"), FileSet("picks/mic_1.box"), FileSet("picks/stray_autopick.star")]);
        Assert.Equal([("Mics/mic_1.mrc", "picks/mic_1.box"), ("Mics/mic_10.mrc", "picks/mic_10_autopick.star")],
            report.Matched.Select(m => (m.MicrographPath, m.Picks.SourcePath)));
        Assert.Equal(["Mics/other.mrc"], report.MicrographsWithoutPicks);
        Assert.Equal(["picks/stray_autopick.star"], report.PicksWithoutMicrograph.Select(s => s.SourcePath));
    }

    [Fact]
    public void NamesStatedInsideFilesMatchTheStemIgnoringFolders()
    {
        var report = MicrographMatcher.Match(["/data/Micrographs/a.mrc", "/data/Micrographs/b.0001.mrc"],
            [Named("MotionCorr/job002/Micrographs/a.mrc"), Named("b.0001"), Named("c")]);
        Assert.Equal(["/data/Micrographs/a.mrc", "/data/Micrographs/b.0001.mrc"], report.Matched.Select(m => m.MicrographPath));
        Assert.Equal(["c"], report.PicksWithoutMicrograph.Select(s => s.MicrographKey));
    }

    [Fact]
    public void DescribeNamesTheUnmatched()
    {
        var report = MicrographMatcher.Match(["a.mrc", "b.mrc"], [FileSet("a.box"), FileSet("z.box")]);
        string text = report.Describe();
        Assert.Contains("1 micrographs with picks", text);
        Assert.Contains("without a coordinate file (skipped): b.mrc", text);
        Assert.Contains("naming no given micrograph (skipped): z.box", text);
    }

    [Fact]
    public void TwoMicrographsWithTheSameNameAreRefused()
    {
        var e = Assert.Throws<CryoFlowDataException>(() => MicrographMatcher.Match(["x/a.mrc", "y/a.mrc"], []));
        Assert.Contains("x/a.mrc and y/a.mrc", e.Message);
    }

    [Fact]
    public void TwoCoordinateSetsForOneMicrographAreRefused()
    {
        var e = Assert.Throws<CryoFlowDataException>(() => MicrographMatcher.Match(["a.mrc"], [FileSet("a.box"), FileSet("a_autopick.star")]));
        Assert.Contains("a.mrc", e.Message);
        Assert.Contains("a.box", e.Message);
    }
}
