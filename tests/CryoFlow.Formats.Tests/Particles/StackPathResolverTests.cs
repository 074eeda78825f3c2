using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Particles;
using CryoFlow.TestSupport;

namespace CryoFlow.Formats.Tests.Particles;

public class StackPathResolverTests
{
    private sealed class Folders : IDisposable
    {
        public TempDir Root { get; } = new();
        public string Star => Dir("star");
        public string Cwd => Dir("cwd");
        public string Data => Dir("data");

        private string Dir(string name) => Directory.CreateDirectory(Path.Combine(Root.Path, name)).FullName;

        public StackPathResolver Resolver(bool withDataDir = true) => new(Star, withDataDir ? Data : null, Cwd);

        public void Dispose() => Root.Dispose();
    }

    private static string Touch(string folder, string relative)
    {
        string p = Path.Combine(folder, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        File.WriteAllBytes(p, [1]);
        return p;
    }

    [Fact]
    public void FindsAStackNextToTheStarFileFirst()
    {
        using var f = new Folders();
        string expected = Touch(f.Star, "Extract/a.mrcs");
        Touch(f.Cwd, "Extract/a.mrcs");
        Assert.Equal(expected, f.Resolver().Resolve("Extract/a.mrcs"));
    }

    [Fact]
    public void FindsAStackInTheWorkingDirectory()
    {
        using var f = new Folders();
        string expected = Touch(f.Cwd, "Extract/a.mrcs");
        Touch(f.Data, "Extract/a.mrcs");
        Assert.Equal(expected, f.Resolver().Resolve("Extract/a.mrcs"));
    }

    [Fact]
    public void FindsAStackInTheDataDir()
    {
        using var f = new Folders();
        string expected = Touch(f.Data, "Extract/a.mrcs");
        Assert.Equal(expected, f.Resolver().Resolve("Extract/a.mrcs"));
    }

    [Fact]
    public void AnAbsolutePathIsUsedAsItIs()
    {
        using var f = new Folders();
        string expected = Touch(f.Root.Path, "abs.mrcs");
        Assert.Equal(expected, f.Resolver().Resolve(expected));
    }

    [Fact]
    public void NotFoundListsEveryPlaceTried()
    {
        using var f = new Folders();
        var where = new DataLocation(FilePath: "p.star", Field: "rlnImageName", Line: 12, Block: "particles");
        var e = Assert.Throws<DataFileNotFoundException>(() => f.Resolver().Resolve("Extract/missing.mrcs", where));
        Assert.Equal(3, e.Tried.Count);
        Assert.Contains(Path.Combine(f.Star, "Extract", "missing.mrcs"), e.Message);
        Assert.Contains(Path.Combine(f.Cwd, "Extract", "missing.mrcs"), e.Message);
        Assert.Contains(Path.Combine(f.Data, "Extract", "missing.mrcs"), e.Message);
        Assert.Contains("p.star", e.Message);
        Assert.Contains("line 12", e.Message);
        Assert.Equal("Extract/missing.mrcs", e.Reference);
    }

    [Fact]
    public void NotFoundWithoutDataDirSaysSo()
    {
        using var f = new Folders();
        var e = Assert.Throws<DataFileNotFoundException>(() => f.Resolver(withDataDir: false).Resolve("x.mrcs"));
        Assert.Contains("no --datadir given", e.Message);
    }

    [Fact]
    public void EachDistinctPathIsLookedUpOnce()
    {
        using var f = new Folders();
        string p = Touch(f.Star, "a.mrcs");
        var r = f.Resolver();
        Assert.Equal(p, r.Resolve("a.mrcs"));
        File.Delete(p); // a second look at the disk would now fail
        for (int i = 0; i < 1000; i++) Assert.Equal(p, r.Resolve("a.mrcs"));
    }

    [Fact]
    public void AParticleTableNamesTheParticleWhoseStackIsMissing()
    {
        using var f = new Folders();
        string star = Path.Combine(f.Star, "p.star");
        File.WriteAllText(star, "data_\nloop_\n_rlnImageName\n1@gone.mrcs\n");
        var table = ParticleTable.Read(star, new ParticleReadOptions { WorkingDirectory = f.Cwd, DataDir = f.Data });
        var e = Assert.Throws<DataFileNotFoundException>(() => table.ResolveStackPath(0));
        Assert.Equal(4, e.Where.Line);
        Assert.Equal("rlnImageName", e.Where.Field);
        Assert.Equal(3, e.Tried.Count);
    }
}
