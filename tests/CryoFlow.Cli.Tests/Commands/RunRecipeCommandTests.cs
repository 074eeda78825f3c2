using CryoFlow.TestSupport;

namespace CryoFlow.Cli.Tests.Commands;

public class RunRecipeCommandTests
{
    [Fact]
    public void RecipeRunsAReconstructionWithItsPresetAndOverrides()
    {
        using var dir = new TempDir();
        var sim = CliRunner.Run("simulate", "--volume", TestPaths.RealData("volumes/hand-vol.mrc"), "--apix", "3", "--box", "32", "--count", "60",
            "--snr", "0.5", "--out", dir.File("data"));
        Assert.True(sim.ExitCode == 0, sim.ToString());
        File.WriteAllText(dir.File("recipe.json"), $$"""
            // a comment, and paths relative to this file
            {
              "pipeline": "abinitio",
              "input": "data/particles.star",
              "config": "{{Path.Combine(TestPaths.RepoRoot, "configs", "quick.json").Replace("\\", "/")}}",
              "set": { "run.maxIterations": 4, "data.testSetSize": 10, "run.seed": 7 },
              "output": "run",
            }
            """);
        var r = CliRunner.Run("run", dir.File("recipe.json"), "--set", "run.threads=1");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(File.Exists(dir.File("run/map.mrc")));
        Assert.True(File.Exists(dir.File("run/particles.star")));
        Assert.Equal(4, File.ReadAllLines(dir.File("run/metrics.jsonl")).Length);
        string config = File.ReadAllText(dir.File("run/config.json"));
        Assert.Contains("\"seed\": 7", config);
        Assert.Contains("\"threads\": 1", config);
        Assert.Contains("\"minibatchSize\": 50", config); // from quick.json
        Assert.Contains("cryoflow run", File.ReadAllText(dir.File("run/run.log")));
    }

    [Fact]
    public void UnknownRecipeKeyIsABadInputNamingFileAndKey()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("r.json"), """{ "input": "x.star", "output": "run", "outptu": "typo" }""");
        var r = CliRunner.Run("run", dir.File("r.json"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(dir.File("r.json"), r.Err);
        Assert.Contains("outptu", r.Err);
    }

    [Fact]
    public void TheShippedRecipeParses()
    {
        var recipe = CryoFlow.Cli.Commands.RunRecipeCommand.Read(Path.Combine(TestPaths.RepoRoot, "pipelines", "abinitio.json"));
        Assert.EndsWith(Path.Combine("demo", "data", "particles.star"), recipe.Input);
        Assert.EndsWith(Path.Combine("configs", "quick.json"), recipe.Config);
        Assert.Contains("run.maxIterations=600", recipe.Sets);
    }
}
