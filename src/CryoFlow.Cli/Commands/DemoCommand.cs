using System.CommandLine;
using System.Globalization;
using CryoFlow.Cli.Assets;
using CryoFlow.Cli.Logging;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.Pipeline.Report;
using CryoFlow.Pipeline.Simulation;

namespace CryoFlow.Cli.Commands;

/// <summary>
/// `cryoflow demo`: the whole job on a built-in default. Simulates a small noisy dataset from the
/// bundled hand volume, reconstructs it from a random start, aligns the result to the truth (rotation,
/// shift, hand), prints the FSC and writes the run's report with the truth as its reference.
/// </summary>
public static class DemoCommand
{
    public static Command Create(ConsoleIo io)
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for the dataset (data/) and the run (run/).", DefaultValueFactory = _ => new DirectoryInfo("demo") };
        var count = new Option<long>("--count") { Description = "Particles to simulate.", DefaultValueFactory = _ => 2000 };
        var box = new Option<int>("--box") { Description = "Box of the simulated images (the 64^3 hand is resampled; 6 Å/px at 32).", DefaultValueFactory = _ => 32 };
        var snr = new Option<double>("--snr") { DefaultValueFactory = _ => 0.1 };
        var iterations = new Option<int>("--max-iterations") { DefaultValueFactory = _ => 600 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "0: all cores.", DefaultValueFactory = _ => 0 };
        var verbose = new Option<bool>("--verbose", "-v");
        var command = new Command("demo", "Simulate a dataset from the bundled hand volume, reconstruct it from a random start, and report the FSC against the truth.")
        {
            output, count, box, snr, iterations, seed, threads, verbose,
        };
        command.SetAction(pr =>
        {
            string root = pr.GetValue(output)!.FullName;
            string data = Path.Combine(root, "data"), run = Path.Combine(root, "run");
            Directory.CreateDirectory(data);
            string logPath = Path.Combine(root, "demo.log");
            using var log = LogSetup.Create(pr.GetValue(verbose), logPath);
            log.Information("cryoflow {Version}: {CommandLine}", VersionCommand.Version, io.CommandLine);
            string hand = BundledVolumes.ExtractHand(Path.Combine(root, ".hand.mrc"));
            int d = pr.GetValue(box);
            // the 64^3 hand taken at 3 Å/voxel (192 Å across), resampled to the demo box
            var simulation = new SimulateOptions(data, pr.GetValue(count), VoxelSize: 3.0, Box: d, Snr: pr.GetValue(snr), ShiftSigma: 1, Seed: pr.GetValue(seed), Threads: pr.GetValue(threads));
            io.Out.WriteLine($"1/3 simulating {simulation.Count} particles of the hand volume, box {d}, SNR {simulation.Snr.ToString(CultureInfo.InvariantCulture)} -> {data}");
            var sim = SimulateJob.Run(hand, simulation, log, new ProgressDisplay("simulate", io.Error).Report);
            File.Delete(hand);

            string preset = Path.Combine(AppContext.BaseDirectory, "configs", "quick.json");
            var config = ReconstructConfig.Load(File.Exists(preset) ? preset : null,
            [
                $"run.maxIterations={pr.GetValue(iterations)}",
                $"run.seed={pr.GetValue(seed)}",
                $"run.threads={pr.GetValue(threads)}",
                "quadrature.shiftSigma=6",
                "quadrature.shiftExtent=12",
            ]);
            io.Out.WriteLine($"2/3 reconstructing from a random start -> {run}");
            var display = new RunDisplay(io.Error);
            var result = ReconstructJob.Run(new ReconstructRequest(sim.StarPath, run, config, CommandLine: "cryoflow demo"), log, display.Report);
            display.Finish();

            io.Out.WriteLine("3/3 aligning the map to the truth, computing the FSC and writing the report");
            var report = RunReport.Write(run, new RunReportOptions { ReferencePath = Path.Combine(data, SimulateJob.TruthName), LogPath = logPath }, log);
            var (alignment, fsc) = (report.Comparison!.Alignment!, report.Comparison.Fsc);
            io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Iterations} iterations ({result.Reason}) in {result.Seconds:F0} s; hand {alignment.Hand.ToString().ToLowerInvariant()} (correlation {alignment.Correlation:F3}, other hand {alignment.OtherHandCorrelation:F3}); FSC 0.5 at {fsc.ResolutionAt(0.5):F1} Å, 0.143 at {fsc.ResolutionAt(0.143):F1} Å (Nyquist {2 * sim.PixelSize:F1} Å)"));
            io.Out.WriteLine($"report: {report.Path}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
