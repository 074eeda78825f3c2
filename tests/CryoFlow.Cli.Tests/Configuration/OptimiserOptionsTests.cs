using CryoFlow.Numerics.Optimisation;
using CryoFlow.Pipeline.Configuration;
using NumericLineSearch = CryoFlow.Numerics.Optimisation.LineSearchOptions;

namespace CryoFlow.Cli.Tests.Configuration;

/// <summary>The optimiser section and the Numerics optimiser it builds.</summary>
public class OptimiserOptionsTests
{
    /// <summary>The defaults: the paper's line search, tightened as the reference code's is (REFERENCE 5.3).</summary>
    private static readonly NumericLineSearch DefaultLineSearch = NumericLineSearch.Paper with { Tighten = true };

    private static readonly SagdOptions DefaultSagd = SagdOptions.Paper with { LineSearch = DefaultLineSearch };

    private static ReconstructConfig Set(params string[] sets) => ReconstructConfig.Load(null, sets);

    private static float[] Ones(int n) => Enumerable.Repeat(1f, n).ToArray();

    [Fact]
    public void TheDefaultsBuildThePapersSagd()
    {
        var options = ReconstructConfig.Default.Optimiser;
        Assert.Equal(DefaultSagd, options.CreateOptimiserOptions());
        Assert.Equal(DefaultLineSearch, options.LineSearch.CreateLineSearch());
        var sagd = Assert.IsType<SagdOptimiser>(options.CreateOptimiser(27, 4));
        Assert.Equal(PaperSchedules.StepScale, sagd.StepScale);
        Assert.Equal(DefaultLineSearch, sagd.Lipschitz.Options);
        Assert.Equal(0, sagd.LowerBound);
        Assert.Equal(1, sagd.ForgettingFactor(500));
        Assert.Equal(4, sagd.History.BatchCount);
    }

    [Fact]
    public void DefaultJsonBuildsThePapersSagdToo()
    {
        var fromFile = ReconstructConfig.Load(ConfigsTests.Preset("default.json"), []);
        Assert.Equal(DefaultSagd, fromFile.Optimiser.CreateOptimiserOptions());
    }

    [Fact]
    public void ForgettingGivesTheReferenceWindowAndTheSameFactorAsTheConfiguration()
    {
        var options = Set("optimiser.forgetting=true").Optimiser;
        var sagd = Assert.IsType<SagdOptions>(options.CreateOptimiserOptions());
        Assert.Equal(ReferenceSchedules.ForgettingWindow, sagd.ForgettingWindow);
        Assert.Equal(DefaultSagd with { ForgettingWindow = ReferenceSchedules.ForgettingWindow }, sagd);
        var optimiser = Assert.IsType<SagdOptimiser>(options.CreateOptimiser(8, 2));
        for (int tau = 0; tau < 5000; tau++)
        {
            double mu = 1 - 1 / (1 + 0.1 * tau);
            Assert.Equal(mu, options.ForgettingFactor(tau));
            Assert.Equal(mu, optimiser.ForgettingFactor(tau));
        }
    }

    [Fact]
    public void EachKindBuildsItsOptimiser()
    {
        Assert.IsType<SgdOptimiser>(Set("optimiser.kind=sgd").Optimiser.CreateOptimiser(8, 2));
        Assert.IsType<MomentumOptimiser>(Set("optimiser.kind=momentum").Optimiser.CreateOptimiser(8, 2));
        Assert.IsType<NesterovOptimiser>(Set("optimiser.kind=nesterov").Optimiser.CreateOptimiser(8, 2));
        Assert.IsType<AdaGradOptimiser>(Set("optimiser.kind=adagrad", "optimiser.learningRate=0.1").Optimiser.CreateOptimiser(8, 2));
        var history = new InMemoryGradientHistory(3, 8);
        Assert.Same(history, Assert.IsType<SagdOptimiser>(ReconstructConfig.Default.Optimiser.CreateOptimiser(8, 3, history)).History);
    }

    [Fact]
    public void EachKindCarriesTheConfiguredSettings()
    {
        var c = Set("optimiser.kind=nesterov", "optimiser.momentum=0.5", "optimiser.stepScale=0.25");
        var nesterov = Assert.IsType<NesterovOptions>(c.Optimiser.CreateOptimiserOptions());
        Assert.Equal(new Schedule.Constant(0.5), nesterov.Momentum);
        Assert.Equal(new Schedule.Constant(0.25), nesterov.StepScale);
        Assert.Equal(DefaultLineSearch, nesterov.LineSearch);
        var sgd = Assert.IsType<SgdOptions>(Set("optimiser.kind=sgd").Optimiser.CreateOptimiserOptions());
        Assert.Equal(new SgdOptions { LineSearch = DefaultLineSearch }, sgd);
        var adagrad = Assert.IsType<AdaGradOptions>(
            Set("optimiser.kind=adagrad", "optimiser.learningRate={\"type\":\"power\",\"initial\":0.1,\"exponent\":0.5,\"scale\":100}").Optimiser.CreateOptimiserOptions());
        Assert.Equal(new Schedule.Power(0.1, 0.5, 100), adagrad.LearningRate);
    }

    [Fact]
    public void TheBuiltOptimiserStepsWithTheConfiguredStepScale()
    {
        // plain SGD without a line search: V -= (eps / L0) g with L0 = initialL
        var optimiser = Set("optimiser.kind=sgd", "optimiser.stepScale=0.5", "optimiser.lineSearch.initialL=2").Optimiser.CreateOptimiser(4, 1);
        float[] v = Ones(4), g = Ones(4);
        var report = optimiser.Step(new OptimiserContext { Iteration = 0, Batch = 0, Volume = v, DataGradient = g });
        Assert.Equal(0.25, report.StepSize);
        Assert.All(v, x => Assert.Equal(0.75f, x));
    }

    [Fact]
    public void LineSearchSettingsMapOntoTheNumericsOnes()
    {
        var lineSearch = Set("optimiser.lineSearch={\"every\":5,\"onResolutionChange\":false,\"initialL\":3,\"decayHalfLife\":null}")
            .Optimiser.LineSearch.CreateLineSearch();
        Assert.Equal(DefaultLineSearch with
        {
            Interval = new Schedule.Constant(5),
            OnMaxFrequencyChange = false,
            InitialLipschitz = 3,
            DecayPerIteration = 1,
        }, lineSearch);
        Assert.Equal(Math.Pow(2, -1.0 / 30), Set("optimiser.lineSearch.decayHalfLife=30").Optimiser.LineSearch.CreateLineSearch().DecayPerIteration);
    }

    [Fact]
    public void EveryZeroSearchesOnlyAtTheStartAndWhenMaxFrequencyChanges()
    {
        var lineSearch = Set("optimiser.lineSearch.every=0").Optimiser.LineSearch.CreateLineSearch();
        Assert.Null(lineSearch.Interval);
        var estimate = new LipschitzEstimate(lineSearch) { LastSearch = 0, LastUpdate = 0 };
        Assert.False(estimate.IsSearchDue(1000, maxFrequencyChanged: false));
        Assert.True(estimate.IsSearchDue(1000, maxFrequencyChanged: true));
    }

    [Fact]
    public void AdagradWithoutALearningRateIsRejected()
    {
        var e = Assert.Throws<ConfigException>(() => Set("optimiser.kind=adagrad"));
        Assert.StartsWith("--set: optimiser.learningRate: kind adagrad needs a learning rate", e.Message);
        Assert.Throws<InvalidOperationException>(() => new CryoFlow.Pipeline.Configuration.OptimiserOptions { Kind = OptimiserKind.Adagrad }.CreateOptimiserOptions());
        var negative = Assert.Throws<ConfigException>(() => Set("optimiser.kind=adagrad", "optimiser.learningRate=-0.1"));
        Assert.Equal("--set: optimiser.learningRate: values must be in (0, +inf); this schedule spans [-0.1, -0.1]", negative.Message);
    }
}
