using CryoFlow.Numerics.Optimisation;
using CryoFlow.Pipeline.Configuration;

namespace CryoFlow.Cli.Tests.Configuration;

/// <summary>The schedule-valued keys of the configuration: their default values, their presets and their JSON.</summary>
public class ConfigSchedulesTests
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
        // max(1.25, 2^(10 / floor(tau/50))), flat (2^10) while floor(tau/50) <= 1; settable in the configuration
        var c = ReconstructConfig.Load(null, ["importanceSampling.temperature={\"type\":\"annealing\",\"base\":2,\"scale\":10,\"every\":50,\"floor\":1.25}"]);
        var paper = c.ImportanceSampling.Temperature;
        Assert.Equal(new Schedule.Annealing(2, 10, every: 50, floor: 1.25), paper);
        Assert.Equal(1024, paper.At(0));
        Assert.Equal(1024, paper.At(99));
        Assert.Equal(32, paper.At(100));
        Assert.Equal(Math.Pow(2, 10.0 / 7), paper.At(370), 12);
        Assert.Equal(1.25, paper.At(100000));
    }

    /// <summary>
    /// Values of the schedules of configs/default.json and configs/quick.json computed by the configuration's own
    /// schedule type before it was replaced by <see cref="Schedule"/> (compared there at every iteration 0..20000, and
    /// every stage 0..1000, bit for bit). The new type must keep them exactly.
    /// </summary>
    public static TheoryData<string, string, (int Clock, double Value)[]> ValuesBeforeTheMove() => new()
    {
        {
            "default.json", "resolution.maxFrequency",
            [
                (0, 0.02), (1, 0.02), (9, 0.02), (10, 0.02), (11, 0.02),
                (49, 0.02), (50, 0.02), (51, 0.02), (59, 0.02), (60, 0.02),
                (99, 0.02), (100, 0.02), (101, 0.02), (149, 0.02), (150, 0.025),
                (151, 0.025), (199, 0.025), (200, 0.025), (249, 0.025), (250, 0.025),
                (251, 0.025), (299, 0.025), (300, 0.03), (449, 0.03), (450, 0.035),
                (599, 0.035), (600, 0.04), (749, 0.04), (750, 0.045), (913, 0.05),
                (914, 0.05), (915, 0.05), (1000, 0.05), (1550, 0.07), (2699, 0.10500000000000001),
                (2700, 0.11), (3050, 0.11), (5000, 0.11), (10000, 0.11), (20000, 0.11),
            ]
        },
        {
            "default.json", "optimiser.stepScale",
            [
                (0, 2), (1, 2), (9, 2), (10, 2), (11, 2),
                (49, 2), (50, 2), (51, 2), (59, 2), (60, 2),
                (99, 2), (100, 2), (101, 2), (149, 2), (150, 1),
                (151, 1), (199, 1), (200, 1), (249, 1), (250, 1),
                (251, 1), (299, 1), (300, 0.5), (449, 0.5), (450, 0.25),
                (599, 0.25), (600, 0.125), (749, 0.125), (750, 0.0625), (913, 0.0625),
                (914, 0.0625), (915, 0.0625), (1000, 0.0625), (1550, 0.0625), (2699, 0.0625),
                (2700, 0.0625), (3050, 0.0625), (5000, 0.0625), (10000, 0.0625), (20000, 0.0625),
            ]
        },
        {
            "default.json", "importanceSampling.uniformShare",
            [
                (0, 1), (1, 1), (9, 1), (10, 1), (11, 1),
                (49, 1), (50, 1), (51, 0.9965402628278678), (59, 0.969289816935065), (60, 0.9659363289248456),
                (99, 0.8438157961300179), (100, 0.8408964152537145), (101, 0.8379871346679486), (149, 0.7095616781001912), (150, 0.7071067811865476),
                (151, 0.7046603775710097), (199, 0.596667871515861), (200, 0.5946035575013605), (249, 0.5017358742547514), (250, 0.5),
                (251, 0.49827013141393395), (299, 0.4219078980650089), (300, 0.42044820762685725), (449, 0.25086793712737565), (450, 0.25),
                (599, 0.14916696787896522), (600, 0.14865088937534013), (749, 0.0886952097625239), (750, 0.08838834764831845), (913, 0.05024068692144695),
                (914, 0.05006686734935137), (915, 0.05), (1000, 0.05), (1550, 0.05), (2699, 0.05),
                (2700, 0.05), (3050, 0.05), (5000, 0.05), (10000, 0.05), (20000, 0.05),
            ]
        },
        {
            "default.json", "importanceSampling.temperature",
            [
                (0, 5.922386521532856e+225), (1, 5.922386521532856e+225), (9, 5.922386521532856e+225), (10, 5.922386521532856e+225), (11, 5.922386521532856e+225),
                (49, 5.922386521532856e+225), (50, 5.922386521532856e+225), (51, 5.922386521532856e+225), (59, 1.2185208703151029e+25), (60, 3.777893186295716e+22),
                (99, 40513.70621143377), (100, 32768), (101, 26724.62998676356), (149, 190.77886915966113), (150, 181.01933598375618),
                (151, 171.93775622587083), (199, 32.75304304933819), (200, 32), (249, 13.63123357246078), (250, 13.454342644059432),
                (251, 13.281473267545298), (299, 8.067089113213678), (300, 8), (449, 3.6799833736297365), (450, 3.668016172818685),
                (599, 2.5777640549578207), (600, 2.5733297960188635), (749, 2.1037472320821955), (750, 2.101513277306439), (913, 1.8264742490298898),
                (914, 1.8252012609063082), (915, 1.8239321002614417), (1000, 1.7284437865632112), (1550, 1.4142135623730951), (2699, 1.2168283811598093),
                (2700, 1.2167382713357153), (3050, 1.189207115002721), (5000, 1.110735379572726), (10000, 1.0536362481191444), (20000, 1.0264006470052132),
            ]
        },
        {
            "default.json", "quadrature.undersampleDirections",
            [
                (0, 1.5), (1, 1.5), (2, 1.25), (3, 1.25), (4, 1),
                (5, 1), (100, 1),
            ]
        },
        {
            "default.json", "quadrature.undersampleInPlane",
            [
                (0, 1.5), (1, 1.5), (2, 1.25), (3, 1.25), (4, 1),
                (5, 1), (100, 1),
            ]
        },
        {
            "default.json", "quadrature.undersampleShifts",
            [
                (0, 1.5), (1, 1.5), (2, 1.25), (3, 1.25), (4, 1),
                (5, 1), (100, 1),
            ]
        },
        {
            "quick.json", "resolution.maxFrequency",
            [
                (0, 0.02), (1, 0.02), (9, 0.02), (10, 0.02), (11, 0.02),
                (49, 0.02), (50, 0.025), (51, 0.025), (59, 0.025), (60, 0.025),
                (99, 0.025), (100, 0.03), (101, 0.03), (149, 0.03), (150, 0.035),
                (151, 0.035), (199, 0.035), (200, 0.04), (249, 0.04), (250, 0.045),
                (251, 0.045), (299, 0.045), (300, 0.05), (449, 0.06), (450, 0.065),
                (599, 0.075), (600, 0.08), (749, 0.08), (750, 0.08), (913, 0.08),
                (914, 0.08), (915, 0.08), (1000, 0.08), (1550, 0.08), (2699, 0.08),
                (2700, 0.08), (3050, 0.08), (5000, 0.08), (10000, 0.08), (20000, 0.08),
            ]
        },
        {
            "quick.json", "optimiser.stepScale",
            [
                (0, 2), (1, 2), (9, 2), (10, 2), (11, 2),
                (49, 2), (50, 1), (51, 1), (59, 1), (60, 1),
                (99, 1), (100, 0.5), (101, 0.5), (149, 0.5), (150, 0.25),
                (151, 0.25), (199, 0.25), (200, 0.125), (249, 0.125), (250, 0.0625),
                (251, 0.0625), (299, 0.0625), (300, 0.0625), (449, 0.0625), (450, 0.0625),
                (599, 0.0625), (600, 0.0625), (749, 0.0625), (750, 0.0625), (913, 0.0625),
                (914, 0.0625), (915, 0.0625), (1000, 0.0625), (1550, 0.0625), (2699, 0.0625),
                (2700, 0.0625), (3050, 0.0625), (5000, 0.0625), (10000, 0.0625), (20000, 0.0625),
            ]
        },
        {
            "quick.json", "importanceSampling.uniformShare",
            [
                (0, 1), (1, 1), (9, 1), (10, 1), (11, 0.9862327044933592),
                (49, 0.5823667932342279), (50, 0.5743491774985174), (51, 0.5664419426478994), (59, 0.5069797398950145), (60, 0.5),
                (99, 0.29118339661711395), (100, 0.2871745887492587), (101, 0.28322097132394963), (149, 0.145591698308557), (150, 0.1435872943746294),
                (151, 0.14161048566197484), (199, 0.0727958491542785), (200, 0.0717936471873147), (249, 0.05), (250, 0.05),
                (251, 0.05), (299, 0.05), (300, 0.05), (449, 0.05), (450, 0.05),
                (599, 0.05), (600, 0.05), (749, 0.05), (750, 0.05), (913, 0.05),
                (914, 0.05), (915, 0.05), (1000, 0.05), (1550, 0.05), (2699, 0.05),
                (2700, 0.05), (3050, 0.05), (5000, 0.05), (10000, 0.05), (20000, 0.05),
            ]
        },
        {
            "quick.json", "importanceSampling.temperature",
            [
                (0, 1.42724769270596e+45), (1, 1.42724769270596e+45), (9, 1.42724769270596e+45), (10, 1.42724769270596e+45), (11, 1.42724769270596e+45),
                (49, 14.381615571128672), (50, 13.454342644059432), (51, 12.627845288071338), (59, 8.34680744773615), (60, 8),
                (99, 3.216280556448532), (100, 3.174802103936399), (101, 3.1347527320542254), (149, 2.1127714194187273), (150, 2.101513277306439),
                (151, 2.090473546567459), (199, 1.7334554909225184), (200, 1.7284437865632112), (249, 1.545008807885297), (250, 1.5422108254079407),
                (251, 1.5394410669205787), (299, 1.4329925824714809), (300, 1.431215958721113), (449, 1.2672363720824247), (450, 1.266554441332253),
                (599, 1.193061927804264), (600, 1.1927050270763901), (749, 1.1510711371230744), (750, 1.1508523098534356), (913, 1.1220313273138023),
                (914, 1.1218884254593704), (915, 1.1217458575498294), (1000, 1.110735379572726), (1550, 1.0698455965471199), (2699, 1.0394229502535153),
                (2700, 1.0394080098331033), (3050, 1.034792932150058), (5000, 1.0210546743899025), (10000, 1.0104619629314475), (20000, 1.0052147542018064),
            ]
        },
        {
            "quick.json", "quadrature.undersampleDirections",
            [
                (0, 2), (1, 2), (2, 2), (3, 2), (4, 2),
                (5, 2), (100, 2),
            ]
        },
    };

    [Theory]
    [MemberData(nameof(ValuesBeforeTheMove))]
    public void PresetSchedulesKeepTheirValuesExactly(string preset, string path, (int Clock, double Value)[] expected)
    {
        var config = ReconstructConfig.Load(ConfigsTests.Preset(preset), []);
        Schedule schedule = path switch
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
        foreach (var (clock, value) in expected)
            Assert.True(BitConverter.DoubleToInt64Bits(value) == BitConverter.DoubleToInt64Bits(schedule.At(clock)),
                $"{preset} {path} at {clock}: expected {value:R}, found {schedule.At(clock):R}");
    }

    [Fact]
    public void TheDefaultsAreThePapersSchedules()
    {
        var d = ReconstructConfig.Default;
        Assert.Equal(PaperSchedules.MaxFrequency, d.Resolution.MaxFrequency);
        Assert.Equal(PaperSchedules.StepScale, d.Optimiser.StepScale);
        var fromFile = ReconstructConfig.Load(ConfigsTests.Preset("default.json"), []);
        Assert.Equal(PaperSchedules.MaxFrequency, fromFile.Resolution.MaxFrequency);
        Assert.Equal(PaperSchedules.StepScale, fromFile.Optimiser.StepScale);
    }

    [Fact]
    public void BoundsOfTheDefaultsAreWhatTheRangeChecksSee()
    {
        var d = ReconstructConfig.Default;
        Assert.Equal(new ScheduleBounds(0.02, 0.11), d.Resolution.MaxFrequency.Bounds());
        Assert.Equal(new ScheduleBounds(0.0625, 2), d.Optimiser.StepScale.Bounds());
        Assert.Equal(new ScheduleBounds(0.05, 1), d.ImportanceSampling.UniformShare.Bounds());
        var annealing = d.ImportanceSampling.Temperature.Bounds();
        Assert.Equal(1, annealing.Infimum);
        Assert.Equal(Math.Pow(2, 750), annealing.Supremum);
        Assert.Equal(new ScheduleBounds(1, 1.5), d.Quadrature.UndersampleShifts.Bounds());
    }

    public static TheoryData<string> EverySchedule() => new(new Schedule[]
    {
        new Schedule.Constant(0.05),
        PaperSchedules.MaxFrequency,
        new Schedule.Staircase(1, -0.1, 3, offset: 4, limit: 0.2),
        PaperSchedules.StepScale,
        new Schedule.Exponential(1, 0.5, every: 200, offset: 50, floor: 0.05),
        new Schedule.Power(0.1, 0.5, 100, floor: 0.01),
        new Schedule.Piecewise([new(0, 1.5), new(2, 1.25), new(4, 1.0)]),
        new Schedule.Piecewise([new(0, 0.1), new(1000, 0.3)], ScheduleInterpolation.Linear),
        new Schedule.Annealing(2, 750, offset: 50, floor: 1),
        new Schedule.Annealing(2, 10, every: 50),
        ReferenceSchedules.MaxFrequency(199),
        new Schedule.Min([PaperSchedules.MaxFrequency, new Schedule.Constant(0.08)]),
        new Schedule.Clamp(new Schedule.Exponential(1, 1.01), upper: 0.2),
    }.Select(s => s.ToJson()));

    [Theory]
    [MemberData(nameof(EverySchedule))]
    public void RoundTripsThroughTheConfigurationAsAnEqualValue(string json)
    {
        var schedule = Schedule.Parse(json);
        var config = ReconstructConfig.Load(null, ["resolution.maxFrequency=" + json]);
        Assert.Equal(schedule, config.Resolution.MaxFrequency);
        Assert.Equal(schedule.GetHashCode(), config.Resolution.MaxFrequency.GetHashCode());
        Assert.Equal(json, config.Resolution.MaxFrequency.ToJson());
        Assert.Equal(config, ReconstructConfig.FromJson(config.ToJson()));
    }

    [Fact]
    public void RefusesANegativeClock()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ReconstructConfig.Default.Resolution.MaxFrequency.At(-1));
    }

    [Fact]
    public void StagesOfTheDefaultRunFollowThePapersStaircaseToItsLimit()
    {
        // 0.02, 0.025, ..., 0.11: 19 values, each 150 iterations long; at 3 Å/px Nyquist (1/6 Å) caps nothing
        var stages = ReconstructConfig.Default.Resolution.Stages(3.0, 10000);
        Assert.Equal(19, stages.Count);
        for (int s = 0; s < stages.Count; s++)
        {
            Assert.Equal(150 * s, stages[s].FirstIteration);
            Assert.Equal(0.02 + 0.005 * s, stages[s].MaxFrequency, 12);
        }
        // at 6 Å/px the Nyquist ceiling (1/12 Å) ends the staircase early
        Assert.Equal(1 / 12.0, ReconstructConfig.Default.Resolution.Stages(6.0, 10000)[^1].MaxFrequency, 12);
    }

    [Fact]
    public void LevelOfAStageUsesThatStagesUndersampling()
    {
        var q = ReconstructConfig.Default.Quadrature;
        var first = q.LevelAt(64, 3.0, 0.05, 0);
        var late = q.LevelAt(64, 3.0, 0.05, 4);
        Assert.Equal(1.5, first.Spec.UndersampleDirections);
        Assert.Equal(1.0, late.Spec.UndersampleDirections);
        Assert.True(late.Directions.Length > 2 * first.Directions.Length, $"{late.Directions.Length} vs {first.Directions.Length}");
        Assert.Equal(q.ShiftSigma, late.Spec.ShiftSigmaAngst);
        Assert.Equal(q.ShiftExtent, late.Spec.ShiftExtentAngst);
    }
}
