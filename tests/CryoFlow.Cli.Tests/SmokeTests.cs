namespace CryoFlow.Cli.Tests;

public class SmokeTests
{
    [Fact]
    public void RepositoryRootIsFound() => Assert.True(File.Exists(Path.Combine(CryoFlow.TestSupport.TestPaths.RepoRoot, "CryoFlow.sln")));
}
