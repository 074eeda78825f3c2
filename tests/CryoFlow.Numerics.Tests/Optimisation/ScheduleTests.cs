using System.Text.Json;
using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class ScheduleTests
{
    [Theory]
    // tau, w* = min(0.11, 0.02 + 0.005 floor(tau/150)) by hand
    [InlineData(0, 0.020)]
    [InlineData(149, 0.020)]
    [InlineData(150, 0.025)]
    [InlineData(1000, 0.050)]
    [InlineData(2699, 0.105)]
    [InlineData(2700, 0.110)]
    [InlineData(100000, 0.110)]
    public void PaperMaxFrequencyRisesByHalfAPercentEvery150IterationsUpTo011(int tau, double expected) =>
        Assert.Equal(expected, PaperSchedules.MaxFrequency.At(tau), 12);

    [Theory]
    // tau, eps = max(1/16, 2^(1 - floor(tau/150))) by hand
    [InlineData(0, 2)]
    [InlineData(149, 2)]
    [InlineData(150, 1)]
    [InlineData(300, 0.5)]
    [InlineData(599, 0.25)]
    [InlineData(600, 0.125)]
    [InlineData(750, 0.0625)]
    [InlineData(900, 0.0625)]
    [InlineData(50000, 0.0625)]
    public void PaperStepScaleHalvesEvery150IterationsDownToOneSixteenth(int tau, double expected) =>
        Assert.Equal(expected, PaperSchedules.StepScale.At(tau), 12);

    [Fact]
    public void StepScaleWrittenAsMaxOfConstantAndDecayAgreesWithTheFlooredExponential()
    {
        var composed = new Schedule.Max([new Schedule.Constant(1.0 / 16), new Schedule.Exponential(2, 0.5, every: 150, stepped: true)]);
        for (int tau = 0; tau < 3000; tau += 7)
            Assert.Equal(PaperSchedules.StepScale.At(tau), composed.At(tau), 15);
    }

    [Fact]
    public void PaperLipschitzDecayHalvesLOver150Iterations() =>
        Assert.Equal(0.5, Math.Pow(PaperSchedules.LipschitzDecayPerIteration, 150), 12);

    [Theory]
    // reference counter it (from 1), 199 batches so B = 200; REFERENCE 5.7
    [InlineData(1, 0.020)]
    [InlineData(199, 0.020)]
    [InlineData(200, 0.025)]
    [InlineData(399, 0.025)]
    [InlineData(400, 0.030)]
    [InlineData(549, 0.030)]
    [InlineData(550, 0.035)]
    [InlineData(2800, 0.110)]
    [InlineData(3999, 0.145)]
    [InlineData(4000, 0.150)]
    [InlineData(9000, 0.150)]
    public void ReferenceMaxFrequencyHoldsTwoStagesOfBIterationsThenClimbsTo015(int it, double expected) =>
        Assert.Equal(expected, ReferenceSchedules.MaxFrequency(199).At(it), 12);

    [Theory]
    [InlineData(1, 150)]
    [InlineData(150, 150)]
    [InlineData(151, 200)]
    [InlineData(199, 200)]
    [InlineData(1000, 1000)]
    public void ReferenceStageLengthIsBatchCountRoundedUpToFiftyAndAtLeast150(int batches, int b)
    {
        var s = ReferenceSchedules.MaxFrequency(batches);
        Assert.Equal(0.020, s.At(b - 1), 12);
        Assert.Equal(0.025, s.At(b), 12);
        Assert.Equal(0.030, s.At(2 * b), 12);
    }

    [Fact]
    public void ReferenceStepScaleHalvesWithEachChangeOfMaxFrequencyDownToOneSixteenth()
    {
        double[] expected = [1, 0.5, 0.25, 0.125, 0.0625, 0.0625, 0.0625];
        for (int c = 0; c < expected.Length; c++)
            Assert.Equal(expected[c], ReferenceSchedules.StepScaleByFrequencyChanges.At(c), 15);
    }

    [Fact]
    public void ReferenceLineSearchRunsEvery5Then3Then1Iterations()
    {
        var s = ReferenceSchedules.LineSearchInterval;
        Assert.Equal([5, 5, 3, 3, 1, 1], new[] { 0, 2499, 2500, 4999, 5000, 9999 }.Select(s.At));
    }

    [Fact]
    public void ReferenceForgettingWindowIsOnePlusATenthOfTheIteration()
    {
        Assert.Equal(1, ReferenceSchedules.ForgettingWindow.At(0), 12);
        Assert.Equal(11, ReferenceSchedules.ForgettingWindow.At(100), 12);
        Assert.Equal(101, ReferenceSchedules.ForgettingWindow.At(1000), 9);
    }

    [Fact]
    public void PiecewiseStepHoldsTheLatestBreakpointAndLinearJoinsThem()
    {
        Breakpoint[] points = [new(10, 1), new(20, 3), new(40, -1)];
        var step = new Schedule.Piecewise(points);
        var linear = new Schedule.Piecewise(points, ScheduleInterpolation.Linear);
        int[] taus = [0, 10, 15, 19, 20, 30, 39, 40, 1000];
        Assert.Equal([1, 1, 1, 1, 3, 3, 3, -1, -1], taus.Select(step.At));
        Assert.Equal([1, 1, 2, 2.8, 3, 1, -0.8, -1, -1], taus.Select(linear.At).Select(v => Math.Round(v, 12)));
    }

    [Fact]
    public void ExponentialAndPowerDecaysFollowTheirFormulas()
    {
        var e = new Schedule.Exponential(initial: 3, factor: 0.9, every: 10, offset: 5);
        Assert.Equal(3, e.At(0), 15);
        Assert.Equal(3, e.At(5), 15);
        Assert.Equal(3 * Math.Pow(0.9, 2.5), e.At(30), 12);
        var p = new Schedule.Power(initial: 0.5, exponent: 0.75, scale: 40, floor: 0.1);
        Assert.Equal(0.5, p.At(0), 15);
        Assert.Equal(0.5 * Math.Pow(1 + 100 / 40.0, -0.75), p.At(100), 12);
        Assert.Equal(0.1, p.At(10_000_000), 15);
    }

    [Fact]
    public void SteppedExponentialHoldsItsInitialValueUntilTheOffset()
    {
        var s = new Schedule.Exponential(initial: 8, factor: 0.5, every: 10, stepped: true, offset: 100);
        Assert.Equal([8, 8, 8, 4, 1], new[] { 0, 99, 109, 110, 130 }.Select(s.At));
    }

    [Fact]
    public void PiecewiseSchedulesCompareByTheirPoints()
    {
        var a = new Schedule.Piecewise([new(0, 1.5), new(2, 1.25)]);
        var b = new Schedule.Piecewise([new(0, 1.5), new(2, 1.25)]);
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new Schedule.Piecewise([new(0, 1.5), new(3, 1.25)]));
        Assert.NotEqual(a, new Schedule.Piecewise([new(0, 1.5), new(2, 1.25)], ScheduleInterpolation.Linear));
    }

    [Fact]
    public void StaircaseWithANegativeStepStopsAtItsLimitFromAbove()
    {
        var s = new Schedule.Staircase(start: 1, step: -0.25, every: 2, offset: 1, limit: 0.4);
        Assert.Equal([1, 1, 1, 0.75, 0.75, 0.5, 0.5, 0.4, 0.4], Enumerable.Range(0, 9).Select(s.At));
    }

    [Fact]
    public void ClampAndMinKeepAValueWithinBounds()
    {
        var grow = new Schedule.Staircase(start: 0, step: 1, every: 1);
        Assert.Equal([2, 2, 2, 3, 4, 4], new[] { 0, 1, 2, 3, 4, 9 }.Select(new Schedule.Clamp(grow, 2, 4).At));
        Assert.Equal([0, 1, 2.5, 2.5], new[] { 0, 1, 3, 9 }.Select(new Schedule.Min([grow, new Schedule.Constant(2.5)]).At));
    }

    [Theory]
    // T = max(1, 2^(750 / max(1, it - 50))); REFERENCE 4.3 tabulates 2^15 at 100, 32 at 200, 4.4 at 400, 2 at 800, 1.41 at 1550, 1.19 at 3050
    [InlineData(100, 32768.0, 1e-9)]
    [InlineData(200, 32.0, 1e-12)]
    [InlineData(400, 4.4, 0.05)]
    [InlineData(800, 2.0, 1e-12)]
    [InlineData(1550, 1.41, 0.01)]
    [InlineData(3050, 1.19, 0.01)]
    public void AnnealingGivesTheReferenceTemperatureTable(int it, double expected, double tolerance)
    {
        var t = new Schedule.Annealing(2, 750, offset: 50, floor: 1);
        Assert.InRange(t.At(it), expected * (1 - tolerance), expected * (1 + tolerance));
        Assert.Equal(Math.Max(1, Math.Pow(2, 750.0 / Math.Max(1, it - 50))), t.At(it));
    }

    [Fact]
    public void AnnealingHoldsItsFirstValueUntilTheSecondStepThenFallsTowardsOne()
    {
        // the paper's max(1.25, 2^(10 / floor(tau/50))): flat at 2^10 while floor(tau/50) <= 1
        var paper = new Schedule.Annealing(2, 10, every: 50, floor: 1.25);
        Assert.Equal([1024, 1024, 1024, 32, Math.Pow(2, 10.0 / 7), 1.25], new[] { 0, 50, 99, 100, 370, 100000 }.Select(paper.At));
        var rising = new Schedule.Annealing(0.5, 4);
        Assert.Equal([0.0625, 0.0625, 0.25, Math.Pow(0.5, 0.004)], new[] { 0, 1, 2, 1000 }.Select(rising.At));
    }

    [Fact]
    public void AnnealingRefusesAnOverflowingFirstValue()
    {
        Assert.Equal("scale", Assert.Throws<InvalidSettingException>(() => new Schedule.Annealing(10, 1000)).Field);
        Assert.Equal("base", Assert.Throws<InvalidSettingException>(() => new Schedule.Annealing(-2, 10)).Field);
    }

    [Fact]
    public void NegativeIterationsAreRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PaperSchedules.StepScale.At(-1));

    public static TheoryData<string> Every() => new(AllKinds().Select(s => s.ToJson()));

    private static IEnumerable<Schedule> AllKinds() =>
    [
        new Schedule.Constant(0.25),
        PaperSchedules.MaxFrequency,
        PaperSchedules.StepScale,
        new Schedule.Power(1.5, 0.6, 12.5, offset: 3),
        new Schedule.Piecewise([new(0, 1e-3), new(7, 2.5e300)], ScheduleInterpolation.Linear),
        ReferenceSchedules.MaxFrequency(199),
        new Schedule.Max([PaperSchedules.MaxFrequency, new Schedule.Constant(0.03)]),
        new Schedule.Min([PaperSchedules.MaxFrequency, new Schedule.Constant(0.03)]),
        new Schedule.Clamp(new Schedule.Exponential(1, 1.01), upper: 4),
        new Schedule.Clamp(new Schedule.Exponential(1, 0.99), lower: 0.5),
        new Schedule.Annealing(2, 750, offset: 50, floor: 1),
        new Schedule.Annealing(0.5, 3, every: 20),
        new Schedule.Staircase(1, -0.1, 3, offset: 2, limit: 0.2),
        new Schedule.Exponential(-2, 1.5, every: 100),
        new Schedule.Power(2, -0.5, 100, floor: 3),
    ];

    [Theory]
    [MemberData(nameof(Every))]
    public void ReadingTheJsonOfAScheduleGivesAnEqualSchedule(string json)
    {
        var original = AllKinds().Single(s => s.ToJson() == json);
        var read = Schedule.Parse(json);
        Assert.Equal(original, read);
        Assert.Equal(original.GetHashCode(), read.GetHashCode());
        Assert.Equal(json, read.ToJson());
        for (int tau = 0; tau < 5000; tau += 37) Assert.Equal(original.At(tau), read.At(tau));
    }

    [Fact]
    public void PaperSchedulesHaveTheDocumentedJsonShape()
    {
        Assert.Equal("""{"type":"staircase","start":0.02,"step":0.005,"every":150,"offset":0,"limit":0.11}""", PaperSchedules.MaxFrequency.ToJson());
        Assert.Equal("""{"type":"exponential","initial":2,"factor":0.5,"every":150,"stepped":true,"offset":0,"floor":0.0625}""", PaperSchedules.StepScale.ToJson());
        // Optional members may be left out.
        Assert.Equal(PaperSchedules.MaxFrequency, Schedule.Parse("""{"type":"staircase","start":0.02,"step":0.005,"every":150,"limit":0.11}"""));
    }

    [Fact]
    public void WholeNumbersMayBeSpelledAsDecimalsOrWithExponents() =>
        Assert.Equal(PaperSchedules.MaxFrequency, Schedule.Parse("""{"type":"staircase","start":0.02,"step":0.005,"every":1.5e2,"offset":0.0,"limit":0.11}"""));

    [Fact]
    public void ABareNumberReadsAsAConstant() => Assert.Equal(new Schedule.Constant(20), Schedule.Parse("20"));

    [Theory]
    [InlineData("""{"type":"cosine","value":1}""", "$.type", "unknown schedule type")]
    [InlineData("""{"value":1}""", "$.type", "is required")]
    [InlineData("""{"type":"constant"}""", "$.value", "is required")]
    [InlineData("""{"type":"constant","value":"1"}""", "$.value", "must be a number")]
    [InlineData("""{"type":"constant","value":1,"vlaue":2}""", "$.vlaue", "is not a member")]
    [InlineData("""{"type":"constant","value":1,"value":2}""", "$.value", "given twice")]
    [InlineData("""{"type":"staircase","start":0.02,"step":0.005,"every":0}""", "$.every", "at least 1")]
    [InlineData("""{"type":"staircase","start":0.02,"step":0.005,"every":1.5}""", "$.every", "whole number")]
    [InlineData("""{"type":"staircase","start":0.02,"step":0.005,"every":150,"max":0.1}""", "$.max", "(its members: type, start, step, every, offset, limit)")]
    [InlineData("""{"type":"annealing","base":0,"scale":1}""", "$.base", "positive")]
    [InlineData("""{"type":"annealing","base":2}""", "$.scale", "is required")]
    [InlineData("""{"type":"exponential","initial":1,"factor":-0.5}""", "$.factor", "positive")]
    [InlineData("""{"type":"power","initial":1,"exponent":1,"scale":0}""", "$.scale", "positive")]
    [InlineData("""{"type":"piecewise","points":[]}""", "$.points", "at least one")]
    [InlineData("""{"type":"piecewise","points":[{"at":5,"value":1},{"at":5,"value":2}]}""", "$.points[1].at", "strictly increasing")]
    [InlineData("""{"type":"piecewise","points":[{"at":0,"value":1,"slope":2}]}""", "$.points[0].slope", "is not a member")]
    [InlineData("""{"type":"piecewise","interpolation":"cubic","points":[{"at":0,"value":1}]}""", "$.interpolation", "\"step\" or \"linear\"")]
    [InlineData("""{"type":"phases","phases":[{"from":3,"schedule":1}]}""", "$.phases[0].from", "start at 0")]
    [InlineData("""{"type":"phases","phases":[{"from":0,"schedule":{"type":"constant"}}]}""", "$.phases[0].schedule.value", "is required")]
    [InlineData("""{"type":"max","items":[]}""", "$.items", "at least one")]
    [InlineData("""{"type":"max","items":[1,{"type":"staircase","start":0,"step":1,"every":-2}]}""", "$.items[1].every", "at least 1")]
    [InlineData("""{"type":"clamp","inner":1,"lower":2,"upper":1}""", "$.upper", ">= lower")]
    [InlineData("""[1,2]""", "$", "must be an object")]
    public void InvalidSpecificationsAreRejectedNamingTheJsonPath(string json, string path, string problem)
    {
        var e = Assert.Throws<JsonException>(() => Schedule.Parse(json));
        Assert.Equal(path, e.Path);
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void ErrorPathsStartAtTheGivenLocation()
    {
        using var doc = JsonDocument.Parse("""{"optimiser":{"stepScale":{"type":"staircase","start":1,"step":1}}}""");
        var e = Assert.Throws<JsonException>(() => Schedule.Parse(doc.RootElement.GetProperty("optimiser").GetProperty("stepScale"), "$.optimiser.stepScale"));
        Assert.Equal("$.optimiser.stepScale.every", e.Path);
    }

    [Fact]
    public void ConstructorsRejectOutOfRangeValuesNamingTheMember()
    {
        var e = Assert.Throws<InvalidSettingException>(() => new Schedule.Staircase(0, 1, every: 0));
        Assert.Equal("every", e.Field);
        Assert.Equal("value", Assert.Throws<InvalidSettingException>(() => new Schedule.Constant(double.NaN)).Field);
        Assert.Equal("points[1].at", Assert.Throws<InvalidSettingException>(() => new Schedule.Piecewise([new(3, 1), new(2, 1)])).Field);
    }
}
