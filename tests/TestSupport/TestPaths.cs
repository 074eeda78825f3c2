namespace CryoFlow.TestSupport;

/// <summary>Where the repository, the shared real data and scratch folders are, seen from a test.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> RepoRootLazy = new(FindRepoRoot);

    /// <summary>The folder holding CryoFlow.sln.</summary>
    public static string RepoRoot => RepoRootLazy.Value;

    /// <summary>../shared next to the checkout, or $CRYOFLOW_SHARED.</summary>
    public static string Shared
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("CRYOFLOW_SHARED");
            if (!string.IsNullOrEmpty(env)) return env;
            return Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));
        }
    }

    /// <summary>A file under shared/data, e.g. <c>RealData("real/relion31.star")</c>; fails the test if absent.</summary>
    public static string RealData(string relative)
    {
        string path = Path.Combine(Shared, "data", relative);
        if (!File.Exists(path))
            throw new FileNotFoundException($"shared test data missing: {path} (set CRYOFLOW_SHARED to the shared folder)", path);
        return path;
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CryoFlow.sln"))) return dir.FullName;
            dir = dir.Parent;
        }
        throw new InvalidOperationException("CryoFlow.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temp folder deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cryoflow-test-" + Guid.NewGuid().ToString("N")[..12]);

    public TempDir() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="text"/> to <paramref name="name"/> (folders created) and returns the full path.</summary>
    public string WriteText(string name, string text)
    {
        string path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
