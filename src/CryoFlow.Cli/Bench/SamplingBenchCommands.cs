using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CryoFlow.Cli.Commands;
using CryoFlow.Cli.Logging;
using CryoFlow.Numerics.Sampling;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Reconstruction;

namespace CryoFlow.Cli.Bench;

/// <summary>`cryoflow bench is-accuracy` and `cryoflow bench is-state-sizes`: importance sampling's figures (issue 5).</summary>
internal static class SamplingBenchCommands
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static Command CreateAccuracy(ConsoleIo io)
    {
        var map = new Option<FileInfo>("--map") { Description = "The map the likelihoods are evaluated with (a converged map).", Required = true };
        var previous = new Option<FileInfo?>("--previous-map") { Description = "The map of the previous visit, whose exhaustive posteriors seed the proposals (default: --map low-passed by --previous-bfactor)." };
        var bfactor = new Option<double>("--previous-bfactor") { Description = "Without --previous-map: the previous map is --map times exp(-B s^2/4) in Fourier space, B in Å^2 (0: --map itself).", DefaultValueFactory = _ => 0 };
        var particles = new Option<FileInfo>("--particles") { Description = "Particles: .star, .cs, or .mrcs with --apix.", Required = true };
        var count = new Option<int>("--count") { Description = "Particles measured (the first that prepare).", DefaultValueFactory = _ => 100 };
        var maxFrequency = new Option<double>("--max-frequency") { Description = "w* of the evaluated visit, 1/Å.", Required = true };
        var previousFrequency = new Option<double?>("--previous-max-frequency") { Description = "w* of the previous visit (default: the same)." };
        var scales = new Option<string>("--s0") { Description = "Comma-separated s0 values (samples = ceil(s0 ESS)).", DefaultValueFactory = _ => "1,3,10,30" };
        var iteration = new Option<int>("--iteration") { Description = "Iteration of the previous visit: sets the annealing temperature and the next proposal's uniform share; the evaluated visit is the next one.", DefaultValueFactory = _ => 3000 };
        var stage = new Option<int?>("--stage") { Description = "Stage clock of the undersampling schedules (default: the stage at which the resolution schedule reaches w*)." };
        var repeats = new Option<int>("--repeats") { Description = "Independent sample sets per particle and s0.", DefaultValueFactory = _ => 1 };
        var (config, sets, threads, seed, apix) = ConfigOptions();
        var datadir = new Option<DirectoryInfo?>("--datadir") { Description = "Extra folder where stacks named in the particle file are looked for." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object, with every particle's figures." };
        var command = new Command("is-accuracy",
            "Importance sampling on real likelihoods (the paper's figure 8): per s0, the error of the sampled log p(I|V) against the exhaustive sum, and the share of the grid evaluated.")
        {
            map, previous, bfactor, particles, count, maxFrequency, previousFrequency, scales, iteration, stage, repeats, config, sets, threads, seed, apix, datadir, json,
        };
        command.SetAction(pr =>
        {
            double[] s0;
            try
            {
                s0 = pr.GetValue(scales)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(t => double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
            }
            catch (FormatException)
            {
                io.Error.WriteLine($"cryoflow bench is-accuracy: --s0 '{pr.GetValue(scales)}' is not a comma-separated list of numbers");
                return ExitCodes.Usage;
            }
            var request = new SamplingAccuracyRequest
            {
                MapPath = pr.GetValue(map)!.FullName,
                PreviousMapPath = pr.GetValue(previous)?.FullName,
                PreviousBFactor = pr.GetValue(bfactor),
                ParticlesPath = pr.GetValue(particles)!.FullName,
                DataDir = pr.GetValue(datadir)?.FullName,
                Config = LoadConfig(pr, config, sets, threads, seed, apix),
                Count = pr.GetValue(count),
                MaxFrequency = pr.GetValue(maxFrequency),
                PreviousMaxFrequency = pr.GetValue(previousFrequency),
                EssScales = s0,
                Iteration = pr.GetValue(iteration),
                Stage = pr.GetValue(stage),
                Repeats = pr.GetValue(repeats),
            };
            using var log = LogSetup.Create(verbose: false);
            SamplingAccuracyResult result;
            try
            {
                result = SamplingAccuracyBench.Run(request, log, line => io.Error.WriteLine(line));
            }
            catch (ArgumentException e)
            {
                io.Error.WriteLine("cryoflow bench is-accuracy: " + e.Message);
                return ExitCodes.Usage;
            }
            io.Out.WriteLine(pr.GetValue(json) ? JsonSerializer.Serialize(result, Json) : AccuracyText(result));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command CreateStateSizes(ConsoleIo io)
    {
        var box = new Option<int>("--box") { Description = "Image edge, px.", Required = true };
        var (config, sets, threads, seed, apix) = ConfigOptions();
        apix.Required = true;
        var command = new Command("is-state-sizes",
            "Per stage of the configured run: the quadrature grid and the largest importance-sampling record a particle leaves in the state store (a full-grid visit).")
        {
            box, config, sets, threads, seed, apix,
        };
        command.SetAction(pr =>
        {
            var cfg = LoadConfig(pr, config, sets, threads, seed, apix);
            int d = pr.GetValue(box);
            double a = cfg.Data.PixelSize!.Value;
            io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"box {d}, {a:G6} Å/px; a record is 3 x (4 + {FactorState.HeaderSize}) B + {FactorState.BytesPerPoint} B per stored point"));
            io.Out.WriteLine("stage  from it.  w* 1/Å   Å      directions  in-plane  shifts  poses          points  full-grid record  x 1e5 particles  x 1e6 particles");
            foreach (var s in SamplingStateSizes.ByStage(cfg, d, a))
                io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Stage,5}  {s.FirstIteration,8}  {s.MaxFrequency,7:F4}  {1 / s.MaxFrequency,5:F1}  {s.Grid.Directions,10}  {s.Grid.InPlaneAngles,8}  {s.Grid.Shifts,6}  {s.Grid.Poses,13:N0}  {s.Grid.FourierPoints,6}  {Bytes(s.FullGridRecordBytes),16}  {Bytes(s.FullGridRecordBytes * 100_000),15}  {Bytes(s.FullGridRecordBytes * 1_000_000),15}"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static (Option<FileInfo?> Config, Option<string[]> Sets, Option<int?> Threads, Option<int?> Seed, Option<double?> Apix) ConfigOptions() => (
        new Option<FileInfo?>("--config") { Description = "Parameter preset, e.g. configs/quick.json (default: the built-in defaults)." },
        new Option<string[]>("--set") { Description = "Override a configuration key, e.g. --set quadrature.shiftExtent=18 (repeatable).", AllowMultipleArgumentsPerToken = false },
        new Option<int?>("--threads") { Description = "Worker threads (run.threads)." },
        new Option<int?>("--seed") { Description = "Random seed (run.seed)." },
        new Option<double?>("--apix") { Description = "Pixel size in Å (data.pixelSize)." });

    private static ReconstructConfig LoadConfig(ParseResult pr, Option<FileInfo?> config, Option<string[]> sets, Option<int?> threads, Option<int?> seed, Option<double?> apix)
    {
        var overrides = new List<string>(pr.GetValue(sets) ?? []);
        if (pr.GetValue(threads) is int t) overrides.Add(FormattableString.Invariant($"run.threads={t}"));
        if (pr.GetValue(seed) is int s) overrides.Add(FormattableString.Invariant($"run.seed={s}"));
        if (pr.GetValue(apix) is double a) overrides.Add(FormattableString.Invariant($"data.pixelSize={a:R}"));
        return ReconstructConfig.Load(pr.GetValue(config)?.FullName, overrides);
    }

    internal static string AccuracyText(SamplingAccuracyResult r)
    {
        var ci = CultureInfo.InvariantCulture;
        var w = new StringWriter(ci);
        w.WriteLine(string.Create(ci, $"box {r.BoxSize}, {r.PixelSize:G6} Å/px, w* {r.MaxFrequency:G4} 1/Å (stage {r.Stage}): {r.Grid.Directions} directions x {r.Grid.InPlaneAngles} in-plane x {r.Grid.Shifts} shifts = {r.Grid.Poses:N0} poses, {r.Grid.FourierPoints} Fourier points"));
        if (r.PreviousGrid != r.Grid)
            w.WriteLine(string.Create(ci, $"previous visit on {r.PreviousGrid.Directions} x {r.PreviousGrid.InPlaneAngles} x {r.PreviousGrid.Shifts} = {r.PreviousGrid.Poses:N0} poses"));
        string previous = double.IsNaN(r.PreviousBFactor) ? "--previous-map" : r.PreviousBFactor == 0 ? "the map itself" : string.Create(ci, $"the map with B = {r.PreviousBFactor:G4} Å^2");
        w.WriteLine(string.Create(ci, $"{r.Particles.Count} particles; previous visit (exhaustive, {previous}) at iteration {r.Iteration}: T = {r.Temperature:G4}, next uniform share a = {r.UniformShare:G3}, chirality flip {(r.ChiralityFlip ? "on" : "off")}; {r.Repeats} sample set(s) per particle and s0"));
        w.WriteLine(string.Create(ci, $"log p: median {r.MedianLogLikelihood:F1} (the marginaliser's LL: without -(D^2/2) log 2pi and -D^2 log sigma)"));
        w.WriteLine(string.Create(ci, $"state record after the exhaustive visit: {r.PreviousStateBytes:F0} B per particle; exhaustive evaluation {1e3 * r.ExhaustiveSecondsPerParticle:F1} ms per particle"));
        w.WriteLine("       |dLL|/|LL|          |dLL|              |L_IS/L - 1|  L_IS/L         fraction of the grid evaluated                        mean draws N");
        w.WriteLine("s0     median    mean      median    mean     median        mean (SE)      mean      median    directions in-plane  shifts    d / psi / t          record B  ms/particle");
        foreach (var s in r.Scales)
            w.WriteLine(string.Create(ci,
                $"{s.EssScale,-6:G4} {E(s.MedianRelativeError),-9} {E(s.MeanRelativeError),-9} {s.MedianAbsoluteError,-9:F3} {s.MeanAbsoluteError,-8:F3} {s.MedianLikelihoodError,-13:F3} {s.MeanLikelihoodRatio:F3} ({s.MeanLikelihoodRatioError:F3})  {E(s.MeanFraction),-9} {E(s.MedianFraction),-9} {E(s.MeanDirectionFraction),-10} {E(s.MeanInPlaneFraction),-9} {E(s.MeanShiftFraction),-9} {$"{s.MeanDirectionDraws:F0} / {s.MeanInPlaneDraws:F0} / {s.MeanShiftDraws:F0}",-20} {s.MeanStateBytes,-8:F0} {1e3 * s.SecondsPerParticle,11:F2}"));
        return w.ToString().TrimEnd();
    }

    private static string E(double v) => v.ToString("0.00E+0", CultureInfo.InvariantCulture);

    private static string Bytes(long b) => b switch
    {
        < 1_000 => string.Create(CultureInfo.InvariantCulture, $"{b} B"),
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{b / 1e3:F1} kB"),
        < 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{b / 1e6:F1} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{b / 1e9:F1} GB"),
    };
}
