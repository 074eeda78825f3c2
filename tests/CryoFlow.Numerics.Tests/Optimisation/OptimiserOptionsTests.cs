using System.Text.Json;
using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class OptimiserOptionsTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    [Fact]
    public void TheDefaultOptimiserIsThePapersSagd()
    {
        var sagd = Assert.IsType<SagdOptimiser>(SagdOptions.Paper.Create(8, 3));
        Assert.Equal(PaperSchedules.StepScale, sagd.StepScale);
        Assert.Equal(1, sagd.ForgettingFactor(500));
        Assert.Equal(0, sagd.LowerBound);
        Assert.Equal(LineSearchOptions.Paper, sagd.Lipschitz.Options);
    }

    [Fact]
    public void EachKindBuildsItsOptimiser()
    {
        Assert.IsType<SgdOptimiser>(new SgdOptions().Create(4, 2));
        Assert.IsType<MomentumOptimiser>(new MomentumOptions().Create(4, 2));
        Assert.IsType<NesterovOptimiser>(new NesterovOptions().Create(4, 2));
        Assert.IsType<AdaGradOptimiser>(new AdaGradOptions { LearningRate = new Schedule.Constant(0.1) }.Create(4, 2));
        var history = new InMemoryGradientHistory(2, 4);
        Assert.Same(history, Assert.IsType<SagdOptimiser>(new SagdOptions().Create(4, 2, history)).History);
    }

    [Fact]
    public void OptionsReadFromJsonWithATypeDiscriminatorAndTypedSchedules()
    {
        const string json = """
            {
              "type": "sagd",
              "stepScale": {"type":"exponential","initial":2,"factor":0.5,"every":150,"stepped":true,"floor":0.0625},
              "forgettingWindow": {"type":"staircase","start":1,"step":0.1,"every":1},
              "lineSearch": {"interval": 5, "tighten": true, "decayPerIteration": 1},
              "lowerBound": 0
            }
            """;
        var sagd = Assert.IsType<SagdOptions>(JsonSerializer.Deserialize<OptimiserOptions>(json, Json));
        Assert.Equal(PaperSchedules.StepScale, sagd.StepScale);
        Assert.Equal(ReferenceSchedules.ForgettingWindow, sagd.ForgettingWindow);
        Assert.Equal(new Schedule.Constant(5), sagd.LineSearch.Interval);
        Assert.True(sagd.LineSearch.Tighten);
        Assert.Equal(2, sagd.LineSearch.Growth);
    }

    public static TheoryData<string> Kinds() => new(
        JsonSerializer.Serialize<OptimiserOptions>(SagdOptions.Reference, Json),
        JsonSerializer.Serialize<OptimiserOptions>(new SgdOptions { LowerBound = null }, Json),
        JsonSerializer.Serialize<OptimiserOptions>(new MomentumOptions(), Json),
        JsonSerializer.Serialize<OptimiserOptions>(new NesterovOptions { Momentum = new Schedule.Constant(0.5) }, Json),
        JsonSerializer.Serialize<OptimiserOptions>(new AdaGradOptions { LearningRate = new Schedule.Power(0.1, 0.5, 10) }, Json));

    [Theory]
    [MemberData(nameof(Kinds))]
    public void OptionsSurviveAJsonRoundTrip(string json)
    {
        var read = JsonSerializer.Deserialize<OptimiserOptions>(json, Json)!;
        Assert.Equal(json, JsonSerializer.Serialize(read, Json));
        Assert.StartsWith("{\"type\":", json);
    }

    [Fact]
    public void AdaGradNeedsALearningRate() =>
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<OptimiserOptions>("""{"type":"adagrad"}""", Json));

    [Fact]
    public void ABadScheduleInsideOptionsIsReportedAtItsPath()
    {
        var e = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<OptimiserOptions>("""{"type":"sgd","stepScale":{"type":"staircase","start":1,"step":1,"every":0}}""", Json));
        Assert.Equal("$.stepScale", e.Path);
        Assert.Contains("every", e.Message);
    }

    [Fact]
    public void ValidationNamesTheBadMemberWithItsEnclosingObject()
    {
        var bad = new SagdOptions { LineSearch = new LineSearchOptions { Growth = 0.5 } };
        Assert.Equal("lineSearch.growth", Assert.Throws<InvalidSettingException>(bad.Validate).Field);
        Assert.Equal("lowerBound", Assert.Throws<InvalidSettingException>(new SgdOptions { LowerBound = double.NaN }.Validate).Field);
        Assert.Equal("delta", Assert.Throws<InvalidSettingException>(new AdaGradOptions { LearningRate = new Schedule.Constant(1), Delta = 0 }.Validate).Field);
        Assert.Throws<InvalidSettingException>(() => bad.Create(4, 2));
    }

    [Fact]
    public void MomentumOutsideZeroToOneIsRefusedWhenStepping()
    {
        var o = new MomentumOptions { Momentum = new Schedule.Constant(1) }.Create(1, 1);
        float[] v = [1], g = [1];
        Assert.Throws<InvalidOperationException>(() => o.Step(new OptimiserContext { Iteration = 0, Batch = 0, Volume = v, DataGradient = g }));
    }

    [Fact]
    public void PriorOptionsReadFromJson()
    {
        var car = Assert.IsType<CarPriorOptions>(JsonSerializer.Deserialize<PriorOptions>("""{"type":"car","tau":0.2,"form":"markovField"}""", Json));
        Assert.Equal(0.2, car.Tau);
        Assert.Equal(CarForm.MarkovField, car.Form);
        Assert.IsType<ExponentialPriorOptions>(PriorOptions.Default);
        Assert.IsType<UniformPriorOptions>(JsonSerializer.Deserialize<PriorOptions>("""{"type":"uniform"}""", Json));
    }
}
