using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class ScheduleBoundsTests
{
    private const double Inf = double.PositiveInfinity;

    private static readonly (Schedule Schedule, ScheduleBounds Bounds)[] Shapes =
    [
        (new Schedule.Constant(0.3), new(0.3, 0.3)),
        (new Schedule.Piecewise([new(0, 1.5), new(2, 1.25), new(4, 1.0)]), new(1.0, 1.5)),
        (new Schedule.Piecewise([new(0, 0.1), new(10, 0.7), new(20, 0.4)], ScheduleInterpolation.Linear), new(0.1, 0.7)),
        // decays towards 0 without reaching it; a floor above 0 is reached
        (new Schedule.Exponential(1, 0.5, every: 200, offset: 50), new(0, 1, InfimumAttained: false)),
        (new Schedule.Exponential(1, 0.5, every: 200, offset: 50, floor: 0.05), new(0.05, 1)),
        (PaperSchedules.StepScale, new(0.0625, 2)),
        (new Schedule.Exponential(3, 1.01), new(3, Inf, SupremumAttained: false)),
        (new Schedule.Exponential(-2, 0.5), new(-2, 0, SupremumAttained: false)),
        (new Schedule.Exponential(0, 0.5), new(0, 0)),
        // a floor at the unreached infimum stays unreached
        (new Schedule.Exponential(1, 0.5, floor: 0), new(0, 1, InfimumAttained: false)),
        (new Schedule.Power(0.5, 0.75, 40), new(0, 0.5, InfimumAttained: false)),
        (new Schedule.Power(2, -1, 10, floor: 1), new(2, Inf, SupremumAttained: false)),
        (PaperSchedules.MaxFrequency, new(0.02, 0.11)),
        (new Schedule.Staircase(0.02, 0.005, 150), new(0.02, Inf, SupremumAttained: false)),
        (new Schedule.Staircase(1, -0.1, 10), new(double.NegativeInfinity, 1, InfimumAttained: false)),
        (new Schedule.Staircase(1, -0.25, 10, limit: 0.4), new(0.4, 1)),
        // floor 1 never acts: 2^(750/k) > 1 for every k an int can hold
        (new Schedule.Annealing(2, 750, offset: 50, floor: 1), new(1, Math.Pow(2, 750), InfimumAttained: false)),
        (new Schedule.Annealing(2, 10, every: 50), new(1, 1024, InfimumAttained: false)),
        (new Schedule.Annealing(0.5, 4), new(0.0625, 1, SupremumAttained: false)),
        (new Schedule.Annealing(1, 4), new(1, 1)),
        (new Schedule.Clamp(new Schedule.Staircase(0, 1, 1), 2, 4), new(2, 4)),
    ];

    public static TheoryData<Schedule, ScheduleBounds> SingleShapes()
    {
        var data = new TheoryData<Schedule, ScheduleBounds>();
        foreach (var (schedule, bounds) in Shapes) data.Add(schedule, bounds);
        return data;
    }

    [Theory]
    [MemberData(nameof(SingleShapes))]
    public void SingleShapesHaveExactBounds(Schedule schedule, ScheduleBounds expected) => Assert.Equal(expected, schedule.Bounds());

    public static TheoryData<Schedule> Composites() =>
    [
        ReferenceSchedules.MaxFrequency(199),
        new Schedule.Max([new Schedule.Constant(1.0 / 16), new Schedule.Exponential(2, 0.5, every: 150, stepped: true)]),
        new Schedule.Min([PaperSchedules.MaxFrequency, new Schedule.Constant(0.03)]),
        new Schedule.Min([new Schedule.Exponential(1, 0.5), new Schedule.Exponential(1, 0.9)]),
        new Schedule.Max([new Schedule.Exponential(1, 0.5), new Schedule.Power(1, 2, 3)]),
        new Schedule.Phases([new Phase(0, new Schedule.Exponential(1, 0.5)), new Phase(100, new Schedule.Constant(3))]),
    ];

    [Theory]
    [MemberData(nameof(Composites))]
    [MemberData(nameof(SingleShapesOnly))]
    public void EveryValueLiesWithinTheBoundsAndNeverOnAnUnattainedOne(Schedule schedule)
    {
        var b = schedule.Bounds();
        for (int tau = 0; tau < 20000; tau++)
        {
            double v = schedule.At(tau);
            Assert.InRange(v, b.Infimum, b.Supremum);
            // a decay that underflows to exactly 0 is a rounding artefact, not the bound being reached
            if (v == 0) continue;
            if (!b.InfimumAttained) Assert.NotEqual(b.Infimum, v);
            if (!b.SupremumAttained) Assert.NotEqual(b.Supremum, v);
        }
    }

    public static TheoryData<Schedule> SingleShapesOnly() => new(Shapes.Select(s => s.Schedule));

    [Fact]
    public void CompositesOfStrictlyPositiveDecaysStayStrictlyPositive()
    {
        var min = new Schedule.Min([new Schedule.Exponential(1, 0.5), new Schedule.Constant(0.5)]).Bounds();
        Assert.True(min.Within(0, 1, lowOpen: true));
        var max = new Schedule.Max([new Schedule.Exponential(1, 0.5), new Schedule.Exponential(2, 0.25)]).Bounds();
        Assert.Equal(new ScheduleBounds(0, 2, InfimumAttained: false), max);
        var phases = new Schedule.Phases([new Phase(0, new Schedule.Constant(0)), new Phase(10, new Schedule.Exponential(1, 0.5))]).Bounds();
        Assert.False(phases.Within(0, 1, lowOpen: true));
    }

    [Theory]
    [InlineData(0.0, 1.0, true, true, 0.0, 1.0, false, false, true)]
    [InlineData(0.0, 1.0, true, true, 0.0, 1.0, true, false, false)]
    [InlineData(0.0, 1.0, false, true, 0.0, 1.0, true, false, true)]
    [InlineData(0.0, 1.0, true, false, 0.0, 1.0, false, true, true)]
    [InlineData(0.0, 1.0, true, true, 0.0, 1.0, false, true, false)]
    [InlineData(0.5, 0.9, true, true, 0.0, 1.0, true, true, true)]
    [InlineData(-0.5, 0.9, true, true, 0.0, 1.0, false, false, false)]
    public void WithinHonoursOpenEndsAndUnattainedBounds(
        double inf, double sup, bool infHit, bool supHit, double lo, double hi, bool lowOpen, bool highOpen, bool expected) =>
        Assert.Equal(expected, new ScheduleBounds(inf, sup, infHit, supHit).Within(lo, hi, lowOpen, highOpen));

    [Fact]
    public void AClampOnAnUnattainedBoundFromTheFarSideMakesTheScheduleConstant()
    {
        // values in (0, 1] capped at 0 are all 0; values in [1/16, 1) raised to at least 1 are all 1
        Assert.Equal(ScheduleBounds.Exactly(0), new Schedule.Clamp(new Schedule.Exponential(1, 0.5), upper: 0).Bounds());
        var rising = new Schedule.Annealing(0.5, 4, floor: 1);
        Assert.Equal(new ScheduleBounds(1, 1), rising.Bounds());
        Assert.All(Enumerable.Range(0, 100), tau => Assert.Equal(1, rising.At(tau)));
    }
}
