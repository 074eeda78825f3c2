using CryoFlow.Pipeline.Configuration;

namespace CryoFlow.Pipeline.Tests.Configuration;

public class ConfigDifferencesTests
{
    [Fact]
    public void ChangedLeavesAreListedAndOnlyRunControlMayChangeOnResume()
    {
        var before = ReconstructConfig.Load(null, ["run.maxIterations=100"]);
        var after = ReconstructConfig.Load(null, ["run.maxIterations=200", "prior.lambda=0.5", "output.checkpoint.everyIterations=5",
            """resolution.maxFrequency={"type":"constant","value":0.05}"""]);
        var changes = ConfigDifferences.Between(before, after);
        Assert.Contains(changes, c => c.Path == "run.maxIterations" && c.Before == "100" && c.After == "200");
        Assert.Contains(changes, c => c.Path == "prior.lambda" && c.After == "0.5");
        Assert.Contains(changes, c => c.Path == "resolution.maxFrequency.type");
        Assert.Equal(["prior.lambda", "resolution.maxFrequency"],
            changes.Where(ConfigDifferences.ChangesResult).Select(c => c.Path.StartsWith("resolution.", StringComparison.Ordinal) ? "resolution.maxFrequency" : c.Path).Distinct());
        Assert.Empty(ConfigDifferences.Between(before, ReconstructConfig.Load(null, ["run.maxIterations=100"])));
    }
}
