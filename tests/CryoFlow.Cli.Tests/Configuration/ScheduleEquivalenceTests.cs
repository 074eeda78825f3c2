using CryoFlow.Numerics.Optimisation;
using CryoFlow.Pipeline.Configuration;

namespace CryoFlow.Cli.Tests.Configuration;

/// <summary>
/// The configuration's schedules, written as <see cref="Schedule"/> JSON (the shapes configs/*.json are moving to),
/// give exactly the values of the configuration's own <see cref="ScheduleSpec"/>s at every iteration.
/// </summary>
public class ScheduleEquivalenceTests
{
    private const string Undersampling = """{"type":"piecewise","interpolation":"step","points":[{"at":0,"value":1.5},{"at":2,"value":1.25},{"at":4,"value":1.0}]}""";

    public static TheoryData<string, string, string, int> Pairs() => new()
    {
        // preset, key path, the Numerics JSON, counters compared (iterations, or stages for the quadrature)
        { "default.json", "resolution.maxFrequency", """{"type":"staircase","start":0.02,"step":0.005,"every":150,"limit":0.11}""", 20000 },
        { "default.json", "optimiser.stepScale", """{"type":"exponential","initial":2,"factor":0.5,"every":150,"stepped":true,"floor":0.0625}""", 20000 },
        { "default.json", "importanceSampling.uniformShare", """{"type":"exponential","initial":1,"factor":0.5,"every":200,"offset":50,"floor":0.05}""", 20000 },
        { "default.json", "importanceSampling.temperature", """{"type":"annealing","base":2,"scale":750,"offset":50,"floor":1}""", 20000 },
        { "default.json", "quadrature.undersampleDirections", Undersampling, 1000 },
        { "default.json", "quadrature.undersampleInPlane", Undersampling, 1000 },
        { "default.json", "quadrature.undersampleShifts", Undersampling, 1000 },
        { "quick.json", "resolution.maxFrequency", """{"type":"staircase","start":0.02,"step":0.005,"every":50,"limit":0.08}""", 20000 },
        { "quick.json", "optimiser.stepScale", """{"type":"exponential","initial":2,"factor":0.5,"every":50,"stepped":true,"floor":0.0625}""", 20000 },
        { "quick.json", "importanceSampling.uniformShare", """{"type":"exponential","initial":1,"factor":0.5,"every":50,"offset":10,"floor":0.05}""", 20000 },
        { "quick.json", "importanceSampling.temperature", """{"type":"annealing","base":2,"scale":150,"offset":10,"floor":1}""", 20000 },
        { "quick.json", "quadrature.undersampleDirections", """{"type":"constant","value":2}""", 1000 },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void TheNumericsScheduleGivesTheSameValueAtEveryCounter(string preset, string path, string json, int counters)
    {
        var config = ReconstructConfig.Load(ConfigsTests.Preset(preset), []);
        ScheduleSpec old = path switch
        {
            "resolution.maxFrequency" => config.Resolution.MaxFrequency,
            "optimiser.stepScale" => config.Optimiser.StepScale,
            "importanceSampling.uniformShare" => config.ImportanceSampling.UniformShare,
            "importanceSampling.temperature" => config.ImportanceSampling.Temperature,
            "quadrature.undersampleDirections" => config.Quadrature.UndersampleDirections,
            "quadrature.undersampleInPlane" => config.Quadrature.UndersampleInPlane,
            "quadrature.undersampleShifts" => config.Quadrature.UndersampleShifts,
            _ => throw new ArgumentOutOfRangeException(nameof(path), path, "no such schedule"),
        };
        var schedule = Schedule.Parse(json);
        for (int x = 0; x <= counters; x++)
            Assert.True(BitConverter.DoubleToInt64Bits(old.At(x)) == BitConverter.DoubleToInt64Bits(schedule.At(x)),
                $"{preset} {path} at {x}: {old.At(x):R} before, {schedule.At(x):R} after");
        var (before, after) = (old.Bounds(), schedule.Bounds());
        Assert.Equal((before.Infimum, before.Supremum, before.InfimumAttained, before.SupremumAttained),
            (after.Infimum, after.Supremum, after.InfimumAttained, after.SupremumAttained));
    }
}
