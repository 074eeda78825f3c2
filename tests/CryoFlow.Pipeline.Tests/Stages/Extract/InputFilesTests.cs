using CryoFlow.Formats.Errors;
using CryoFlow.Pipeline.Stages.Extract;
using CryoFlow.TestSupport;

namespace CryoFlow.Pipeline.Tests.Stages.Extract;

public class InputFilesTests
{
    [Fact]
    public void PatternsFoldersAndFilesExpandSortedWithoutRepeats()
    {
        using var dir = new TempDir();
        foreach (string f in new[] { "m/b.mrc", "m/a.mrc", "m/a.mrcs", "m/notes.txt", "p/a.box", "p/a.star", "p/readme.md" }) dir.WriteText(f, "");
        var mics = InputFiles.Expand([dir.File("m/*.mrc"), dir.File("m/a.mrc")], "micrographs", [".mrc"]);
        Assert.Equal([dir.File("m/a.mrc"), dir.File("m/b.mrc")], mics);
        var coords = InputFiles.Expand([dir.File("p")], "coordinates", [".box", ".star"]);
        Assert.Equal([dir.File("p/a.box"), dir.File("p/a.star")], coords);
        Assert.Equal([dir.File("m/a.mrc")], InputFiles.Expand([dir.File("m/?.mrc")[..^5] + "a.mrc"], "micrographs", [".mrc"]));
    }

    [Fact]
    public void NothingMatchingIsAnErrorNamingThePattern()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DataFileNotFoundException>(() => InputFiles.Expand([dir.File("*.mrc")], "micrographs", [".mrc"]));
        Assert.Contains("*.mrc", e.Message);
        Assert.Throws<DataFileNotFoundException>(() => InputFiles.Expand([dir.File("none.mrc")], "micrographs", [".mrc"]));
        Assert.Throws<ArgumentException>(() => InputFiles.Expand([dir.File("*/a.mrc")], "micrographs", [".mrc"]));
    }
}
