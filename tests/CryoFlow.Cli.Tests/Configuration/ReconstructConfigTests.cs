using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CryoFlow.Formats.Errors;
using CryoFlow.Numerics.Quadrature;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.TestSupport;
using InvalidSettingException = CryoFlow.Numerics.Optimisation.InvalidSettingException;
using Schedule = CryoFlow.Numerics.Optimisation.Schedule;
using ScheduleInterpolation = CryoFlow.Numerics.Optimisation.ScheduleInterpolation;

namespace CryoFlow.Cli.Tests.Configuration;

public class ReconstructConfigTests
{
    private static ReconstructConfig Set(params string[] sets) => ReconstructConfig.Load(null, sets);

    private static ConfigException Rejects(string? preset, params string[] sets) =>
        Assert.Throws<ConfigException>(() => ReconstructConfig.Load(preset, sets));

    // ---- --set overrides ----

    [Fact]
    public void NoPresetAndNoOverridesGivesTheDefaults()
    {
        Assert.Equal(ReconstructConfig.Default, Set());
    }

    [Fact]
    public void SetOverridesNumbersStringsAndBooleans()
    {
        var c = Set("data.minibatchSize=100", "optimiser.kind=nesterov", "data.invertContrast=true",
            "quadrature.shiftSigma=7.5", "quadrature.symmetry=C7", "quadrature.shiftRule=\"legendre\"");
        Assert.Equal(100, c.Data.MinibatchSize);
        Assert.Equal(OptimiserKind.Nesterov, c.Optimiser.Kind);
        Assert.True(c.Data.InvertContrast);
        Assert.Equal(7.5, c.Quadrature.ShiftSigma);
        Assert.Equal("C7", c.Quadrature.Symmetry);
        Assert.Equal(ShiftRule.Legendre, c.Quadrature.ShiftRule);
        Assert.Equal(ReconstructConfig.Default with
        {
            Data = c.Data,
            Optimiser = ReconstructConfig.Default.Optimiser with { Kind = OptimiserKind.Nesterov },
            Quadrature = c.Quadrature,
        }, c);
    }

    [Fact]
    public void SetAcceptsEnumNamesInAnyCase()
    {
        Assert.Equal(PriorKind.Car, Set("prior.kind=CAR").Prior.Kind);
    }

    [Fact]
    public void SetNullClearsANullableOption()
    {
        var c = Set("run.timeLimitMinutes=90", "run.timeLimitMinutes=null");
        Assert.Null(c.Run.TimeLimitMinutes);
    }

    [Fact]
    public void LaterSetsWinOverEarlierOnes()
    {
        Assert.Equal(30, Set("data.minibatchSize=10", "data.minibatchSize=30").Data.MinibatchSize);
    }

    [Fact]
    public void SetANestedObjectMergesItsKeys()
    {
        var c = Set("output.checkpoint={\"keep\": 5, \"everyMinutes\": 12.5}");
        Assert.Equal(5, c.Output.Checkpoint.Keep);
        Assert.Equal(12.5, c.Output.Checkpoint.EveryMinutes);
        Assert.Equal(100, c.Output.Checkpoint.EveryIterations);
    }

    [Fact]
    public void SetAScheduleObjectReplacesTheSchedule()
    {
        var c = Set("resolution.maxFrequency={\"type\":\"constant\",\"value\":0.05}");
        Assert.Equal(new Schedule.Constant(0.05), c.Resolution.MaxFrequency);
        Assert.Equal(0.05, c.Resolution.MaxFrequency.At(5000));
    }

    [Fact]
    public void SetABareNumberForAScheduleMeansAConstant()
    {
        Assert.Equal(new Schedule.Constant(0.5), Set("optimiser.stepScale=0.5").Optimiser.StepScale);
    }

    [Fact]
    public void SetAScheduleObjectWithoutTypePatchesItsFields()
    {
        var c = Set("resolution.maxFrequency={\"limit\":0.05}", "optimiser.stepScale.floor=0.125");
        Assert.Equal(new Schedule.Staircase(0.02, 0.005, 150, limit: 0.05), c.Resolution.MaxFrequency);
        Assert.Equal(new Schedule.Exponential(2, 0.5, every: 150, stepped: true, floor: 0.125), c.Optimiser.StepScale);
    }

    [Fact]
    public void SetAPiecewiseScheduleFromJson()
    {
        var c = Set("quadrature.undersampleShifts={\"type\":\"piecewise\",\"points\":[{\"at\":0,\"value\":2},{\"at\":3,\"value\":1}],\"interpolation\":\"linear\"}");
        Assert.Equal(new Schedule.Piecewise([new(0, 2), new(3, 1)], ScheduleInterpolation.Linear), c.Quadrature.UndersampleShifts);
        Assert.Equal(2 - 1.0 / 3, c.Quadrature.UndersampleShifts.At(1), 12);
    }

    [Fact]
    public void SetWithoutAnEqualsSignIsRejected()
    {
        var e = Rejects(null, "data.minibatchSize");
        Assert.Contains("--set: data.minibatchSize: expected key.path=value", e.Message);
        Rejects(null, "data..minibatchSize=3");
        Rejects(null, "=3");
    }

    // ---- unknown keys ----

    [Fact]
    public void UnknownKeyInSetIsRejectedWithItsPathAndASuggestion()
    {
        var e = Rejects(null, "optimiser.stepScal=1");
        var issue = Assert.Single(e.Issues);
        Assert.Equal("--set", issue.Origin);
        Assert.Equal("optimiser.stepScal", issue.Path);
        Assert.Equal("--set: optimiser.stepScal: unknown key; did you mean stepScale?", e.Message);
    }

    [Fact]
    public void UnknownSectionInSetIsRejected()
    {
        var e = Rejects(null, "optimizer.kind=sgd");
        Assert.Equal("--set: optimizer: unknown key; did you mean optimiser?", e.Message);
    }

    [Fact]
    public void AKeyInTheWrongSectionSuggestsItsFullPath()
    {
        var e = Rejects(null, "minibatchSize=100");
        Assert.Equal("--set: minibatchSize: unknown key; did you mean data.minibatchSize?", e.Message);
    }

    [Fact]
    public void UnknownKeyInAFileIsRejectedWithTheFileAndThePath()
    {
        using var dir = new TempDir();
        string preset = dir.File("mine.json");
        File.WriteAllText(preset, """
            {
              "data": { "minibatchSize": 100 },
              "optimiser": { "lineSearch": { "evrey": 5 } },
              "prior": { "lambad": 1 }
            }
            """);
        var e = Rejects(preset);
        Assert.Equal(2, e.Issues.Count);
        Assert.Equal($"{preset}: optimiser.lineSearch.evrey: unknown key; did you mean every?", e.Issues[0].ToString());
        Assert.Equal($"{preset}: prior.lambad: unknown key; did you mean lambda?", e.Issues[1].ToString());
        Assert.Equal(preset, e.FilePath);
    }

    [Fact]
    public void UnknownFieldOfAScheduleIsRejectedWithItsPath()
    {
        var e = Rejects(null, "resolution.maxFrequency={\"type\":\"staircase\",\"start\":0.02,\"step\":0.005,\"every\":150,\"max\":0.1}");
        Assert.Equal("--set: resolution.maxFrequency.max: is not a member of a staircase schedule (its members: type, start, step, every, offset, limit)", e.Message);
    }

    [Fact]
    public void UnknownScheduleTypeIsRejected()
    {
        var e = Rejects(null, "optimiser.stepScale={\"type\":\"exponentail\",\"initial\":1}");
        Assert.StartsWith("--set: optimiser.stepScale.type: unknown schedule type \"exponentail\"; expected one of ", e.Message);
        Assert.Contains(" exponential,", e.Message);
    }

    [Fact]
    public void MissingScheduleFieldIsRejected()
    {
        var e = Rejects(null, "optimiser.stepScale={\"type\":\"exponential\",\"initial\":1,\"every\":10}");
        Assert.Equal("--set: optimiser.stepScale.factor: is required", e.Message);
    }

    // ---- types ----

    [Theory]
    [InlineData("data.minibatchSize=abc", "data.minibatchSize: expected an integer, found the string \"abc\"")]
    [InlineData("data.minibatchSize=2.5", "data.minibatchSize: expected an integer, found the number 2.5")]
    [InlineData("data.minibatchSize=null", "data.minibatchSize: expected an integer, found null")]
    [InlineData("quadrature.shiftSigma=wide", "quadrature.shiftSigma: expected a number, found the string \"wide\"")]
    [InlineData("quadrature.shiftSigma=1e999", "quadrature.shiftSigma: expected a finite number, found 1e999")]
    [InlineData("run.timeLimitMinutes=[1]", "run.timeLimitMinutes: expected a number, found an array")]
    [InlineData("data.invertContrast=yes", "data.invertContrast: expected true or false, found the string \"yes\"")]
    [InlineData("prior.kind=gaussian", "prior.kind: expected one of exponential, uniform, car, found \"gaussian\"")]
    [InlineData("optimiser.kind=nesterow", "optimiser.kind: expected one of sagd, sgd, momentum, nesterov, adagrad, found \"nesterow\"; did you mean nesterov?")]
    [InlineData("prior.kind=3", "prior.kind: expected one of exponential, uniform, car, found the number 3")]
    [InlineData("quadrature.symmetry=4", "quadrature.symmetry: expected a string, found the number 4")]
    [InlineData("data.mask=5", "data.mask: expected an object, found the number 5")]
    [InlineData("resolution.maxFrequency=fast", "resolution.maxFrequency: a schedule must be an object with a \"type\" member or a number (found string)")]
    [InlineData("resolution.maxFrequency={\"type\":\"constant\",\"value\":\"x\"}", "resolution.maxFrequency.value: must be a number (found string)")]
    [InlineData("resolution.maxFrequency={\"type\":\"piecewise\",\"points\":[{\"at\":0.5,\"value\":1}]}", "resolution.maxFrequency.points[0].at: must be a whole number of iterations (found 0.5)")]
    public void WrongTypeIsRejectedWithThePathAndTheExpectedType(string set, string expected)
    {
        var e = Rejects(null, set);
        Assert.StartsWith("--set: " + expected, e.Message);
    }

    [Fact]
    public void WrongTypeInAFileNamesTheFile()
    {
        using var dir = new TempDir();
        string preset = dir.File("typo.json");
        File.WriteAllText(preset, """{ "run": { "maxIterations": "many" } }""");
        var e = Rejects(preset);
        Assert.Equal($"{preset}: run.maxIterations: expected an integer, found the string \"many\"", e.Message);
    }

    // ---- ranges ----

    [Theory]
    [InlineData("data.minibatchSize=0", "data.minibatchSize: must be >= 1 (found 0)")]
    [InlineData("data.testSetSize=-1", "data.testSetSize: must be >= 0 (found -1)")]
    [InlineData("data.testSetMaxFraction=1", "data.testSetMaxFraction: must be in [0, 1) (found 1)")]
    [InlineData("data.pixelSize=0", "data.pixelSize: must be > 0 (found 0)")]
    [InlineData("data.particleRadiusFraction=1.5", "data.particleRadiusFraction: must be in (0, 1] (found 1.5)")]
    [InlineData("data.workingBox.policy=fixed", "data.workingBox.size: policy fixed needs a size (px)")]
    [InlineData("data.workingBox.size=65", "data.workingBox.size: must be even and >= 8 (found 65)")]
    [InlineData("importanceSampling.essScale=0", "importanceSampling.essScale: must be > 0 (found 0)")]
    [InlineData("importanceSampling.globalShare.directions=1.5", "importanceSampling.globalShare.directions: must be in [0, 1] (found 1.5)")]
    [InlineData("importanceSampling.uniformShare=1.5", "importanceSampling.uniformShare: values must be in [0, 1]; this schedule spans [1.5, 1.5]")]
    [InlineData("importanceSampling.uniformShare={\"initial\":2}", "importanceSampling.uniformShare: values must be in [0, 1]; this schedule spans [0.05, 2]")]
    [InlineData("importanceSampling.fullGridEssFraction=0", "importanceSampling.fullGridEssFraction: must be in (0, 1] (found 0)")]
    [InlineData("optimiser.momentum=1", "optimiser.momentum: must be in [0, 1) (found 1)")]
    [InlineData("optimiser.lineSearch.initialL=-2", "optimiser.lineSearch.initialL: must be > 0 (found -2)")]
    [InlineData("optimiser.lineSearch.decayHalfLife=0", "optimiser.lineSearch.decayHalfLife: must be >= 1 (found 0)")]
    [InlineData("optimiser.stepScale={\"type\":\"staircase\",\"start\":1,\"step\":-0.1,\"every\":10}", "optimiser.stepScale: values must be in (0, +inf); this schedule spans (-inf, 1]")]
    [InlineData("quadrature.undersampleDirections=0", "quadrature.undersampleDirections: values must be in (0, +inf); this schedule spans [0, 0]")]
    [InlineData("quadrature.symmetry=X3", "quadrature.symmetry: expected a point group C1, Cn or Dn (n >= 1), found \"X3\"")]
    [InlineData("quadrature.symmetry=C0", "quadrature.symmetry: expected a point group")]
    [InlineData("prior.lambda=0", "prior.lambda: must be > 0 (found 0)")]
    [InlineData("resolution.nyquistFraction=1.2", "resolution.nyquistFraction: must be in (0, 1] (found 1.2)")]
    [InlineData("resolution.stop.patience=-1", "resolution.stop.patience: must be >= 0 (found -1)")]
    [InlineData("output.checkpoint.keep=0", "output.checkpoint.keep: must be >= 1 (found 0)")]
    [InlineData("run.maxIterations=0", "run.maxIterations: must be >= 1 (found 0)")]
    [InlineData("run.timeLimitMinutes=-5", "run.timeLimitMinutes: must be > 0 (found -5)")]
    public void ValueOutOfRangeIsRejectedWithItsPath(string set, string expected)
    {
        var e = Rejects(null, set);
        Assert.StartsWith("--set: " + expected, e.Message);
    }

    [Theory]
    [InlineData("resolution.maxFrequency={\"type\":\"staircase\",\"start\":0.02,\"step\":0.005,\"every\":0}", "resolution.maxFrequency.every: must be at least 1 (found 0)")]
    [InlineData("resolution.maxFrequency={\"type\":\"clamp\",\"inner\":0.05,\"lower\":0.2,\"upper\":0.11}", "resolution.maxFrequency.upper: must be >= lower (found lower 0.2, upper 0.11)")]
    [InlineData("quadrature.undersampleShifts={\"type\":\"piecewise\",\"points\":[{\"at\":0,\"value\":2},{\"at\":0,\"value\":1}]}", "quadrature.undersampleShifts.points[1].at: breakpoints must be strictly increasing (found 0 after 0)")]
    [InlineData("importanceSampling.temperature={\"base\":-2}", "importanceSampling.temperature.base: must be positive and finite (found -2)")]
    [InlineData("optimiser.stepScale.every=0", "optimiser.stepScale.every: must be at least 1 (found 0)")]
    public void InvalidScheduleIsRejectedWithItsPath(string set, string expected)
    {
        Assert.Equal("--set: " + expected, Rejects(null, set).Message);
    }

    [Fact]
    public void EveryRangeViolationIsReportedAtOnceWithTheLayerThatSetIt()
    {
        using var dir = new TempDir();
        string preset = dir.File("bad.json");
        File.WriteAllText(preset, """{ "data": { "minibatchSize": 0 }, "prior": { "carTau": -1 } }""");
        var e = Rejects(preset, "run.threads=-4");
        Assert.Equal(
        [
            $"{preset}: data.minibatchSize: must be >= 1 (found 0)",
            $"{preset}: prior.carTau: must be > 0 (found -1)",
            "--set: run.threads: must be >= 0 (found -4)",
        ], e.Issues.Select(i => i.ToString()));
    }

    [Fact]
    public void ACrossFieldViolationNamesTheLayerThatSetTheSection()
    {
        var e = Rejects(null, "data.workingBox={\"policy\":\"fixed\"}");
        Assert.Equal("--set: data.workingBox.size: policy fixed needs a size (px)", e.Message);
    }

    [Fact]
    public void ConfigErrorsAreBadInputForTheCommandLine()
    {
        var e = Rejects(null, "data.minibatchSize=0");
        Assert.IsAssignableFrom<CryoFlowDataException>(e);
    }

    [Fact]
    public void ValidateChecksAConfigurationBuiltInCode()
    {
        ReconstructConfig.Default.Validate();
        var bad = ReconstructConfig.Default with { Data = new DataOptions { MinibatchSize = 0 } };
        var e = Assert.Throws<ConfigException>(bad.Validate);
        Assert.Equal("configuration: data.minibatchSize: must be >= 1 (found 0)", e.Message);
        var badSchedule = ReconstructConfig.Default with { Optimiser = new OptimiserOptions { StepScale = new Schedule.Constant(-1) } };
        Assert.Equal("configuration: optimiser.stepScale: values must be in (0, +inf); this schedule spans [-1, -1]", Assert.Throws<ConfigException>(badSchedule.Validate).Message);
        // a schedule cannot be built invalid in the first place
        Assert.Equal("every", Assert.Throws<InvalidSettingException>(() => new Schedule.Staircase(1, 1, 0)).Field);
    }

    // ---- files ----

    [Fact]
    public void FilesMayHaveCommentsAndTrailingCommas()
    {
        using var dir = new TempDir();
        string preset = dir.File("commented.json");
        File.WriteAllText(preset, """
            // a preset
            {
              "data": {
                "minibatchSize": 64, // small
              },
              /* block comments too */
              "run": { "seed": 7, },
            }
            """);
        var c = ReconstructConfig.Load(preset, []);
        Assert.Equal(64, c.Data.MinibatchSize);
        Assert.Equal(7, c.Run.Seed);
    }

    [Fact]
    public void MalformedJsonNamesTheFileAndTheLine()
    {
        using var dir = new TempDir();
        string preset = dir.File("broken.json");
        File.WriteAllText(preset, "{\n  \"data\": {\n    \"minibatchSize\": ,\n  }\n}\n");
        var e = Rejects(preset);
        Assert.StartsWith($"{preset}: line 3, column ", e.Message);
        Assert.Contains("invalid JSON", e.Message);
    }

    [Fact]
    public void DuplicateKeysAreRejected()
    {
        using var dir = new TempDir();
        string preset = dir.File("twice.json");
        File.WriteAllText(preset, """{ "run": { "seed": 1, "seed": 2 } }""");
        var e = Rejects(preset);
        Assert.Contains(preset, e.Message);
        Assert.Contains("seed", e.Message);
    }

    [Fact]
    public void TopLevelMustBeAnObject()
    {
        using var dir = new TempDir();
        string preset = dir.File("array.json");
        File.WriteAllText(preset, "[1, 2]");
        Assert.Equal($"{preset}: expected a JSON object at the top level, found an array", Rejects(preset).Message);
    }

    [Fact]
    public void MissingPresetIsRejected()
    {
        using var dir = new TempDir();
        string preset = dir.File("nowhere.json");
        Assert.Equal($"{preset}: preset file not found", Rejects(preset).Message);
    }

    [Fact]
    public void PresetsExtendBasesRelativeToTheirFolderAndOverrideThem()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("sub"));
        File.WriteAllText(dir.File("base.json"), """{ "data": { "minibatchSize": 10, "testSetSize": 20 } }""");
        File.WriteAllText(dir.File("sub/child.json"), """{ "extends": "../base.json", "data": { "testSetSize": 30 } }""");
        var c = ReconstructConfig.Load(dir.File("sub/child.json"), ["data.testSetSize=40"]);
        Assert.Equal(10, c.Data.MinibatchSize);
        Assert.Equal(40, c.Data.TestSetSize);
        Assert.Equal(30, ReconstructConfig.Load(dir.File("sub/child.json"), []).Data.TestSetSize);
    }

    [Fact]
    public void ErrorsInABasePresetNameTheBase()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("base.json"), """{ "data": { "minibatchSise": 10 } }""");
        File.WriteAllText(dir.File("child.json"), """{ "extends": "base.json" }""");
        var e = Rejects(dir.File("child.json"));
        Assert.Equal($"{Path.Combine(dir.Path, "base.json")}: data.minibatchSise: unknown key; did you mean minibatchSize?", e.Message);
    }

    [Fact]
    public void CyclicExtendsIsRejected()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a.json"), """{ "extends": "b.json" }""");
        File.WriteAllText(dir.File("b.json"), """{ "extends": "a.json" }""");
        Assert.Contains("cycle", Rejects(dir.File("a.json")).Message);
    }

    // ---- resolved JSON and hash ----

    [Fact]
    public void ResolvedJsonRoundTripsToAnEqualConfig()
    {
        var c = ReconstructConfig.Load(ConfigsTests.Preset("quick.json"), ["optimiser.kind=adagrad", "optimiser.learningRate=0.05", "data.pixelSize=1.34",
            "quadrature.undersampleShifts={\"type\":\"piecewise\",\"points\":[{\"at\":0,\"value\":2},{\"at\":3,\"value\":1}],\"interpolation\":\"linear\"}"]);
        using var dir = new TempDir();
        string written = dir.File("config.json");
        File.WriteAllText(written, c.ToJson());
        var back = ReconstructConfig.Load(written, []);
        Assert.Equal(c, back);
        Assert.Equal(c.ConfigHash(), back.ConfigHash());
        Assert.Equal(c.ToJson(), back.ToJson());
        Assert.Equal(c, ReconstructConfig.FromJson(c.ToJson()));
    }

    [Fact]
    public void ResolvedJsonHasEveryKeyAndNoExtends()
    {
        var tree = JsonNode.Parse(ReconstructConfig.Load(ConfigsTests.Preset("quick.json"), []).ToJson())!.AsObject();
        Assert.False(tree.ContainsKey("extends"));
        Assert.Equal(ConfigsTests.LeafPaths(JsonNode.Parse(ReconstructConfig.Default.ToJson())!.AsObject()), ConfigsTests.LeafPaths(tree));
        Assert.True(tree["run"]!.AsObject().ContainsKey("timeLimitMinutes"));
    }

    [Fact]
    public void PositivityOffNeedsAPriorDefinedOnSignedDensities()
    {
        var e = Assert.Throws<ConfigException>(() => Set("optimiser.positivity=false"));
        Assert.Contains("optimiser.positivity", e.Message);
        Assert.Contains("exponential", e.Message);
        Assert.False(Set("optimiser.positivity=false", "prior.kind=car").Optimiser.Positivity);
        Assert.Null(Set("optimiser.positivity=false", "prior.kind=uniform").Optimiser.CreateOptimiserOptions().LowerBound);
        Assert.Equal(0, ReconstructConfig.Default.Optimiser.CreateOptimiserOptions().LowerBound);
    }

    [Fact]
    public void TheSolventMaskIsBuiltAtTheWorkingPixelSizeForEveryKind()
    {
        Assert.Null(ReconstructConfig.Default.Optimiser.SupportDiameter);
        Assert.Null(ReconstructConfig.Default.Optimiser.CreateOptimiserOptions().Support);
        var c = Set("optimiser.supportDiameter=60", "optimiser.supportSoftEdgePx=2");
        // 60 Å at 3 Å/px: a 10 px radius in a 32 px box, 2 px edge
        var support = c.Optimiser.CreateOptimiserOptions(32, 3).Support!;
        Assert.Equal(10, support.RadiusPx, 12);
        Assert.Equal(2, support.SoftEdgePx);
        Assert.Equal(32 * 32 * 32, support.Length);
        var sgd = Assert.IsType<CryoFlow.Numerics.Optimisation.SgdOptimiser>(Set("optimiser.supportDiameter=60", "optimiser.kind=sgd").Optimiser.CreateOptimiser(32 * 32 * 32, 2, null, 3));
        Assert.Equal(10, sgd.Constraint.Support!.RadiusPx, 12);
        // a mask needs the box and pixel size to be placed
        Assert.Throws<InvalidOperationException>(() => c.Optimiser.CreateOptimiserOptions());
        Assert.Contains("optimiser.supportDiameter", Assert.Throws<ConfigException>(() => Set("optimiser.supportDiameter=0")).Message);
        Assert.Contains("optimiser.supportSoftEdgePx", Assert.Throws<ConfigException>(() => Set("optimiser.supportSoftEdgePx=-1")).Message);
    }

    [Fact]
    public void TheShellPreconditionerIsForSagdOnly()
    {
        var e = Assert.Throws<ConfigException>(() => Set("optimiser.shellPreconditioner=true", "optimiser.kind=sgd"));
        Assert.Contains("optimiser.shellPreconditioner", e.Message);
        Assert.True(Set("optimiser.shellPreconditioner=true").Optimiser.ShellPreconditioner);
    }

    [Fact]
    public void HashIsTheSha256OfKeySortedCompactJson()
    {
        var c = ReconstructConfig.Default;
        string canonical = c.CanonicalJson();
        Assert.DoesNotContain("\n", canonical);
        Assert.StartsWith("{\"data\":{\"initialMap\":null,\"invertContrast\":false,\"mask\":{\"enabled\":false,", canonical);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))), c.ConfigHash());
        Assert.Matches("^[0-9a-f]{64}$", c.ConfigHash());
    }

    [Fact]
    public void HashDoesNotDependOnKeyOrderOrNumberSpelling()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a.json"), """{ "run": { "seed": 5, "maxIterations": 300 }, "data": { "testSetMaxFraction": 0.05 } }""");
        File.WriteAllText(dir.File("b.json"), """{ "data": { "testSetMaxFraction": 5.0e-2 }, "run": { "maxIterations": 3e2, "seed": 5 } }""");
        var a = ReconstructConfig.Load(dir.File("a.json"), []);
        var b = ReconstructConfig.Load(dir.File("b.json"), []);
        Assert.Equal(a, b);
        Assert.Equal(a.ConfigHash(), b.ConfigHash());
        Assert.Equal(a.CanonicalJson(), b.CanonicalJson());
    }

    [Fact]
    public void HashIsTheSameForIndependentlyLoadedEqualConfigs()
    {
        string[] sets = ["optimiser.kind=sgd", "resolution.targetResolution=8"];
        Assert.Equal(Set(sets).ConfigHash(), Set(sets).ConfigHash());
        Assert.Equal(ReconstructConfig.Default.ConfigHash(), ReconstructConfig.Load(ConfigsTests.Preset("default.json"), []).ConfigHash());
    }

    [Fact]
    public void HashChangesWhenAnyValueChanges()
    {
        string baseline = ReconstructConfig.Default.ConfigHash();
        var defaults = JsonNode.Parse(ReconstructConfig.Default.ToJson())!.AsObject();
        var seen = new HashSet<string> { baseline };
        var paths = ConfigsTests.LeafPaths(defaults);
        Assert.True(paths.Count > 50, $"only {paths.Count} options");
        foreach (string path in paths)
        {
            // a value that is only valid together with another key's (optimiser.positivity=false needs a prior other than exponential)
            string[] companion = path == "optimiser.positivity" ? ["prior.kind=uniform"] : [];
            var changed = Mutations(ConfigsTests.At(defaults, path))
                .Select(v => TryLoad([$"{path}={v}", .. companion]))
                .FirstOrDefault(c => c is not null && c != ReconstructConfig.Default);
            Assert.True(changed is not null, $"no valid change found for {path}");
            Assert.True(seen.Add(changed.ConfigHash()), $"changing {path} did not change the hash");
        }
    }

    private static ReconstructConfig? TryLoad(string[] sets)
    {
        try
        {
            return Set(sets);
        }
        catch (ConfigException)
        {
            return null;
        }
    }

    /// <summary>Candidate replacement values for one option, as --set text; the first one that validates is used.</summary>
    private static IEnumerable<string> Mutations(JsonNode? value)
    {
        switch (value?.GetValueKind())
        {
            case null:
                return ["8", "64", "0.5", "start.mrc"];
            case System.Text.Json.JsonValueKind.True:
                return ["false"];
            case System.Text.Json.JsonValueKind.False:
                return ["true"];
            case System.Text.Json.JsonValueKind.Number:
                double d = value.GetValue<double>();
                return new[] { d + 1, d / 2, d * 2, 0.5, 1 }.Select(x => x.ToString("R", CultureInfo.InvariantCulture));
            case System.Text.Json.JsonValueKind.String:
                return ["sgd", "uniform", "legendre", "std", "dataset", "ceiling", "C2"];
            default:
                return ["{\"type\":\"constant\",\"value\":1}", "{\"type\":\"constant\",\"value\":0.5}"];
        }
    }
}
