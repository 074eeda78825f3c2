using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CryoFlow.Numerics.Optimisation;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.TestSupport;

namespace CryoFlow.Cli.Tests.Configuration;

/// <summary>The presets in configs/ and their README, against the built-in defaults.</summary>
public partial class ConfigsTests
{
    public static string Preset(string name) => Path.Combine(TestPaths.RepoRoot, "configs", name);

    private static readonly JsonDocumentOptions Lenient = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    private static JsonObject Tree(ReconstructConfig c) => JsonNode.Parse(c.ToJson())!.AsObject();

    /// <summary>Dotted paths of every option in a tree; schedule objects (with "type") count as one option.</summary>
    public static List<string> LeafPaths(JsonObject tree, string prefix = "")
    {
        var paths = new List<string>();
        foreach (var (key, node) in tree)
        {
            string p = prefix.Length == 0 ? key : prefix + "." + key;
            if (node is JsonObject o && !o.ContainsKey("type")) paths.AddRange(LeafPaths(o, p));
            else paths.Add(p);
        }
        return paths;
    }

    public static JsonNode? At(JsonObject tree, string path)
    {
        JsonNode? node = tree;
        foreach (string key in path.Split('.')) node = node![key];
        return node;
    }

    [Fact]
    public void DefaultJsonEqualsTheBuiltInDefaults()
    {
        var loaded = ReconstructConfig.Load(Preset("default.json"), []);
        Assert.Equal(ReconstructConfig.Default, loaded);
        Assert.Equal(ReconstructConfig.Default.ToJson(), loaded.ToJson());
    }

    [Fact]
    public void DefaultJsonListsEveryOptionWithTheBuiltInValue()
    {
        // equality after loading could hide a key missing from the file (the built-in value would fill it): compare the file itself
        var file = JsonNode.Parse(File.ReadAllText(Preset("default.json")), documentOptions: Lenient)!.AsObject();
        var builtIn = Tree(ReconstructConfig.Default);
        Assert.Equal(LeafPaths(builtIn), LeafPaths(file));
        foreach (string path in LeafPaths(builtIn))
        {
            string json = At(file, path)?.ToJsonString() ?? "null";
            var fromFile = ReconstructConfig.Load(null, [$"{path}={json}"]);
            Assert.True(fromFile == ReconstructConfig.Default, $"default.json's {path} = {json} differs from the built-in default");
        }
    }

    [GeneratedRegex("""^\s*"(\w+)":(?>\s*)(?!\{\s*$)""")]
    private static partial Regex OptionLine();

    [GeneratedRegex(@"\((DESIGN|REFERENCE|TPAMI|CryoFlow)\b|\b(DESIGN|REFERENCE|TPAMI) \d")]
    private static partial Regex Citation();

    [Fact]
    public void DefaultJsonCitesASourceForEveryOption()
    {
        string[] lines = File.ReadAllLines(Preset("default.json"));
        int options = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            var m = OptionLine().Match(lines[i]);
            if (!m.Success) continue;
            options++;
            string comment = lines[i - 1].Trim();
            Assert.True(comment.StartsWith("//", StringComparison.Ordinal), $"default.json line {i + 1} ({m.Groups[1].Value}) has no comment above it");
            Assert.True(Citation().IsMatch(comment), $"default.json line {i}: the comment on {m.Groups[1].Value} cites no source: {comment}");
        }
        Assert.Equal(LeafPaths(Tree(ReconstructConfig.Default)).Count, options);
    }

    [Fact]
    public void QuickJsonLoadsAndDiffersFromTheDefaultsExactlyWhereIntended()
    {
        var quick = ReconstructConfig.Load(Preset("quick.json"), []);
        var q = Tree(quick);
        var d = Tree(ReconstructConfig.Default);
        var differing = LeafPaths(d).Where(p => !JsonNode.DeepEquals(At(q, p), At(d, p))).ToList();
        Assert.Equal(
        [
            "data.minibatchSize",
            "data.testSetSize",
            "quadrature.undersampleDirections",
            "quadrature.undersampleInPlane",
            "quadrature.undersampleShifts",
            "importanceSampling.uniformShare",
            "importanceSampling.temperature",
            "importanceSampling.chiralityFlipUntil",
            "optimiser.stepScale",
            "resolution.maxFrequency",
            "resolution.stop.patience",
            "evaluation.testEvery",
            "output.mapEvery",
            "output.checkpoint.everyIterations",
            "output.checkpoint.everyMinutes",
            "run.maxIterations",
            "run.timeLimitMinutes",
        ], differing);
    }

    [Fact]
    public void QuickJsonIsSmallerCoarserAndShorter()
    {
        var quick = ReconstructConfig.Load(Preset("quick.json"), []);
        var d = ReconstructConfig.Default;
        Assert.True(quick.Data.MinibatchSize < d.Data.MinibatchSize);
        Assert.Equal(2.0, quick.Quadrature.UndersampleDirections.At(0));
        Assert.True(quick.Run.MaxIterations < d.Run.MaxIterations);
        // the same staircase, three times faster, capped lower: 0.02 + 0.005 floor(tau/50), at most 0.08
        Assert.Equal(new Schedule.Staircase(0.02, 0.005, 50, limit: 0.08), quick.Resolution.MaxFrequency);
        Assert.Equal(0.025, quick.Resolution.MaxFrequency.At(50), 12);
        Assert.Equal(0.08, quick.Resolution.MaxFrequency.At(600), 12);
        Assert.Equal(0.0625, quick.Optimiser.StepScale.At(250));
        Assert.Equal(new Schedule.Exponential(1, 0.5, every: 50, offset: 10, floor: 0.05), quick.ImportanceSampling.UniformShare);
        Assert.Equal(new Schedule.Annealing(2, 150, offset: 10, floor: 1), quick.ImportanceSampling.Temperature);
        Assert.NotEqual(d.ConfigHash(), quick.ConfigHash());
    }

    [Fact]
    public void FineJsonChangesTheQuickPresetOnlyWhereItSays()
    {
        var fine = ReconstructConfig.Load(Preset("fine.json"), []);
        var quick = ReconstructConfig.Load(Preset("quick.json"), []);
        var f = Tree(fine);
        var q = Tree(quick);
        var differing = LeafPaths(q).Where(p => !JsonNode.DeepEquals(At(f, p), At(q, p))).ToList();
        Assert.Equal(
        [
            "quadrature.undersampleShifts",
            "quadrature.shiftSamplesPerPeriod",
            "quadrature.shiftSigma",
            "quadrature.shiftExtent",
            "quadrature.shiftRule",
            "importanceSampling.uniformShare",
            "importanceSampling.temperature",
            "resolution.maxFrequency",
            "run.maxIterations",
            "run.starts",
            "run.startIterations",
        ], differing);
        // the importance-sampling floors are the change; the rest of each schedule is the quick preset's
        Assert.Equal(new Schedule.Exponential(1, 0.5, every: 50, offset: 10, floor: 0.3), fine.ImportanceSampling.UniformShare);
        Assert.Equal(new Schedule.Annealing(2, 150, offset: 10, floor: 4), fine.ImportanceSampling.Temperature);
        Assert.Equal(new Schedule.Staircase(0.02, 0.005, 50, limit: 0.125), fine.Resolution.MaxFrequency);
        Assert.Null(fine.Optimiser.SupportDiameter);
        Assert.Equal((4, 400), (fine.Run.Starts, fine.Run.StartIterations));
        Assert.False(fine.Resolution.Stop.KeepBest);
    }

    [Fact]
    public void QuickJsonTakesOverrides()
    {
        var c = ReconstructConfig.Load(Preset("quick.json"), ["run.maxIterations=50", "resolution.maxFrequency={\"limit\":0.05}"]);
        Assert.Equal(50, c.Run.MaxIterations);
        Assert.Equal(new Schedule.Staircase(0.02, 0.005, 50, limit: 0.05), c.Resolution.MaxFrequency);
        Assert.Equal(50, c.Data.MinibatchSize);
    }

    [Fact]
    public void ReadmeDocumentsEveryOption()
    {
        string readme = File.ReadAllText(Preset("README.md"));
        foreach (string path in LeafPaths(Tree(ReconstructConfig.Default)))
            Assert.True(readme.Contains($"`{path}`", StringComparison.Ordinal), $"configs/README.md does not document `{path}`");
    }
}
