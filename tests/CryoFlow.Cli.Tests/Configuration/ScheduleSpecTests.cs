using System.Text.Json.Nodes;
using CryoFlow.Pipeline.Configuration;

namespace CryoFlow.Cli.Tests.Configuration;

public class ScheduleSpecTests
{
    // w*(tau) = min(0.11, 0.02 + 0.005 floor(tau/150)), by hand: floor(tau/150) = 0, 0, 1, 1, 2, 12, 18, 18, 66
    [Theory]
    [InlineData(0, 0.02)]
    [InlineData(149, 0.02)]
    [InlineData(150, 0.025)]
    [InlineData(299, 0.025)]
    [InlineData(300, 0.03)]
    [InlineData(1800, 0.08)]
    [InlineData(2700, 0.11)]
    [InlineData(2999, 0.11)]
    [InlineData(10000, 0.11)]
    public void PaperMaxFrequencyMatchesHandComputedValues(int tau, double expected)
    {
        var w = ReconstructConfig.Default.Resolution.MaxFrequency;
        Assert.Equal(expected, w.At(tau), 12);
        Assert.Equal(Math.Min(0.11, 0.02 + 0.005 * Math.Floor(tau / 150.0)), w.At(tau), 12);
    }

    // eps(tau) = max(1/16, 2^(1 - floor(tau/150)))
    [Theory]
    [InlineData(0, 2.0)]
    [InlineData(149, 2.0)]
    [InlineData(150, 1.0)]
    [InlineData(300, 0.5)]
    [InlineData(450, 0.25)]
    [InlineData(600, 0.125)]
    [InlineData(750, 0.0625)]
    [InlineData(899, 0.0625)]
    [InlineData(900, 0.0625)]
    [InlineData(100000, 0.0625)]
    public void PaperStepScaleMatchesHandComputedValues(int tau, double expected)
    {
        var eps = ReconstructConfig.Default.Optimiser.StepScale;
        Assert.Equal(expected, eps.At(tau)); // powers of two: exact
        Assert.Equal(Math.Max(1.0 / 16, Math.Pow(2, 1 - Math.Floor(tau / 150.0))), eps.At(tau));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    [InlineData(51)]
    [InlineData(250)]
    [InlineData(913)]
    [InlineData(915)]
    [InlineData(5000)]
    public void ReferenceUniformShareIsTheCodesFormula(int itPrev)
    {
        // alpha = max(0.05, 2^(-0.005 max(0, it - 50))) (REFERENCE 4.5)
        double expected = Math.Max(0.05, Math.Pow(2, -0.005 * Math.Max(0, itPrev - 50)));
        Assert.Equal(expected, ReconstructConfig.Default.ImportanceSampling.UniformShare.At(itPrev), 12);
    }

    [Fact]
    public void ReferenceUniformShareReachesItsFloorNearIteration914()
    {
        var alpha = ReconstructConfig.Default.ImportanceSampling.UniformShare;
        Assert.True(alpha.At(913) > 0.05);
        Assert.Equal(0.05, alpha.At(915));
    }

    // T = max(1, 2^(750 / max(1, it - 50))); REFERENCE 4.5 tabulates 2^15 at 100, 32 at 200, 4.4 at 400, 2 at 800, 1.41 at 1550, 1.19 at 3050
    [Theory]
    [InlineData(100, 32768.0, 1e-9)]
    [InlineData(200, 32.0, 1e-12)]
    [InlineData(400, 4.4, 0.05)]
    [InlineData(800, 2.0, 1e-12)]
    [InlineData(1550, 1.41, 0.01)]
    [InlineData(3050, 1.19, 0.01)]
    public void ReferenceTemperatureMatchesTheTabulatedValues(int it, double expected, double tolerance)
    {
        double t = ReconstructConfig.Default.ImportanceSampling.Temperature.At(it);
        Assert.InRange(t, expected - tolerance * expected, expected + tolerance * expected);
        Assert.Equal(Math.Max(1, Math.Pow(2, 750.0 / Math.Max(1, it - 50))), t, 9);
    }

    [Fact]
    public void PaperTemperatureIsAnAnnealingScheduleWithEvery50()
    {
        // max(1.25, 2^(10 / floor(tau/50))), flat (2^10) while floor(tau/50) <= 1
        var paper = new AnnealingSchedule(2, 10, Every: 50, Min: 1.25);
        Assert.Equal(1024, paper.At(0));
        Assert.Equal(1024, paper.At(99));
        Assert.Equal(32, paper.At(100));
        Assert.Equal(Math.Pow(2, 10.0 / 7), paper.At(370), 12);
        Assert.Equal(1.25, paper.At(100000));
    }

    [Fact]
    public void PiecewiseStepHoldsEachValueUntilTheNextPoint()
    {
        var s = new PiecewiseSchedule([new(10, 1.5), new(20, 1.25), new(40, 1.0)]);
        Assert.Equal(1.5, s.At(0));
        Assert.Equal(1.5, s.At(19));
        Assert.Equal(1.25, s.At(20));
        Assert.Equal(1.25, s.At(39));
        Assert.Equal(1.0, s.At(40));
        Assert.Equal(1.0, s.At(1000000));
    }

    [Fact]
    public void PiecewiseLinearInterpolatesBetweenPointsAndHoldsOutside()
    {
        var s = new PiecewiseSchedule([new(100, 1.0), new(200, 3.0), new(300, 2.0)], ScheduleInterpolation.Linear);
        Assert.Equal(1.0, s.At(0));
        Assert.Equal(1.0, s.At(100));
        Assert.Equal(2.0, s.At(150), 12);
        Assert.Equal(3.0, s.At(200));
        Assert.Equal(2.5, s.At(250), 12);
        Assert.Equal(2.0, s.At(301));
    }

    [Fact]
    public void StaircaseWithNegativeStepIsFlooredByMin()
    {
        var s = new StaircaseSchedule(1.0, -0.25, 10, Min: 0.4);
        Assert.Equal(1.0, s.At(9));
        Assert.Equal(0.75, s.At(10));
        Assert.Equal(0.5, s.At(20));
        Assert.Equal(0.4, s.At(30));
    }

    [Fact]
    public void ExponentialHoldsItsStartUntilTheDelay()
    {
        var s = new ExponentialSchedule(8, 0.5, 10, Delay: 100);
        Assert.Equal(8, s.At(99));
        Assert.Equal(8, s.At(109));
        Assert.Equal(4, s.At(110));
        Assert.Equal(1, s.At(130));
    }

    [Fact]
    public void RefusesANegativeClock()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantSchedule(1).At(-1));
    }

    [Fact]
    public void BoundsOfMonotoneSchedulesKnowWhetherTheLimitIsReached()
    {
        var decaying = new ExponentialSchedule(1, 0.5, 1).Bounds();
        Assert.Equal(0, decaying.Infimum);
        Assert.False(decaying.InfimumAttained);
        Assert.True(decaying.Within(0, 1, lowOpen: true)); // always > 0, never reaches it
        Assert.False(decaying.Within(0.01, 1));

        var floored = new ExponentialSchedule(1, 0.5, 1, Min: 0.05).Bounds();
        Assert.Equal(new ScheduleBounds(0.05, 1), floored);

        var growing = new StaircaseSchedule(0.02, 0.005, 150).Bounds();
        Assert.Equal(double.PositiveInfinity, growing.Supremum);
        Assert.False(growing.Within(0, 1));

        Assert.Equal(new ScheduleBounds(0.02, 0.11), ReconstructConfig.Default.Resolution.MaxFrequency.Bounds());

        var annealing = ReconstructConfig.Default.ImportanceSampling.Temperature.Bounds();
        Assert.Equal(1, annealing.Infimum);
        Assert.Equal(Math.Pow(2, 750), annealing.Supremum);
    }

    [Fact]
    public void ProblemsNameTheFieldAtFault()
    {
        Assert.Contains(new StaircaseSchedule(0, 1, 0).Problems(), p => p.Contains("every"));
        Assert.Contains(new StaircaseSchedule(0, 1, 1, Min: 2, Max: 1).Problems(), p => p.Contains("min"));
        Assert.Contains(new ExponentialSchedule(-1, 0.5, 1).Problems(), p => p.Contains("start"));
        Assert.Contains(new ExponentialSchedule(1, 0, 1).Problems(), p => p.Contains("factor"));
        Assert.Contains(new PiecewiseSchedule([]).Problems(), p => p.Contains("at least one"));
        Assert.Contains(new PiecewiseSchedule([new(5, 1), new(5, 2)]).Problems(), p => p.Contains("points[1]"));
        Assert.Contains(new AnnealingSchedule(10, 1000).Problems(), p => p.Contains("overflows"));
        Assert.Contains(new ConstantSchedule(double.NaN).Problems(), p => p.Contains("value"));
        Assert.Throws<ArgumentException>(() => new StaircaseSchedule(0, 1, 0).Validate());
        Assert.Empty(ReconstructConfig.Default.Optimiser.StepScale.Problems());
    }

    public static TheoryData<ScheduleSpec> EverySchedule() =>
    [
        new ConstantSchedule(0.05),
        new StaircaseSchedule(0.02, 0.005, 150, Max: 0.11),
        new StaircaseSchedule(1, -0.1, 3, Min: 0.2, Max: 5),
        new ExponentialSchedule(2, 0.5, 150, Min: 1.0 / 16),
        new ExponentialSchedule(1, 0.5, 200, Min: 0.05, Max: 0.9, Delay: 50, Continuous: true),
        new PiecewiseSchedule([new(0, 1.5), new(2, 1.25), new(4, 1.0)]),
        new PiecewiseSchedule([new(0, 0.1), new(1000, 0.3)], ScheduleInterpolation.Linear),
        new AnnealingSchedule(2, 750, Every: 1, Delay: 50, Min: 1),
        new AnnealingSchedule(2, 10, Every: 50),
    ];

    [Theory]
    [MemberData(nameof(EverySchedule))]
    public void RoundTripsThroughJsonAsAnEqualValue(ScheduleSpec schedule)
    {
        string json = schedule.ToJson().ToJsonString();
        var config = ReconstructConfig.Load(null, ["resolution.maxFrequency=" + json]);
        Assert.Equal(schedule, config.Resolution.MaxFrequency);
        Assert.Equal(schedule.GetHashCode(), config.Resolution.MaxFrequency.GetHashCode());
        Assert.Equal(json, config.Resolution.MaxFrequency.ToJson().ToJsonString());
    }

    [Fact]
    public void PiecewiseSchedulesCompareByTheirPoints()
    {
        var a = new PiecewiseSchedule([new(0, 1.5), new(2, 1.25)]);
        var b = new PiecewiseSchedule([new(0, 1.5), new(2, 1.25)]);
        Assert.Equal(a, b);
        Assert.NotEqual(a, new PiecewiseSchedule([new(0, 1.5), new(3, 1.25)]));
        Assert.NotEqual(a, new PiecewiseSchedule([new(0, 1.5), new(2, 1.25)], ScheduleInterpolation.Linear));
    }

    [Fact]
    public void WritesOptionalFieldsOnlyWhenSet()
    {
        var o = new StaircaseSchedule(0.02, 0.005, 150).ToJson();
        Assert.Equal(["type", "start", "step", "every"], o.Select(p => p.Key));
        Assert.Equal("staircase", (string?)o["type"]);
        JsonObject e = new ExponentialSchedule(1, 0.5, 200, Delay: 50, Continuous: true).ToJson();
        Assert.True((bool?)e["continuous"]);
        Assert.Equal(50, (int?)e["delay"]);
    }
}
