using System.CommandLine;
using CryoFlow.Cli.Logging;
using CryoFlow.Pipeline.Stages.Extract;
using CryoFlow.Pipeline.Stages.Extract.Watch;

namespace CryoFlow.Cli.Commands;

/// <summary>`cryoflow extract`: particles cut from micrographs at picked coordinates, written as RELION writes them.</summary>
public static class ExtractCommand
{
    public static Command Create(ConsoleIo io)
    {
        var args = new ExtractArguments();
        var threads = new Option<int>("--threads") { Description = "Worker threads (0: all cores).", DefaultValueFactory = _ => 0 };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder: <micrograph>_particles.mrcs per micrograph, particles.star, extract.log.", Required = true };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log to the console too." };
        var watch = new WatchArguments("extract it into its stack and rewrite particles.star");
        var command = new Command("extract", "Extract particles from micrographs at picked coordinates (RELION, crYOLO, EMAN, Topaz picks; RELION or CTFFIND4 CTF) into per-micrograph stacks and a RELION 3.1 particles.star.");
        foreach (var o in args.All) command.Options.Add(o);
        command.Options.Add(threads);
        command.Options.Add(output);
        command.Options.Add(verbose);
        foreach (var o in watch.All) command.Options.Add(o);
        command.SetAction(pr =>
        {
            ExtractionRequest request;
            WatchOptions? live = null;
            try
            {
                request = args.Read(pr, pr.GetValue(threads));
                live = watch.Read(pr);
            }
            catch (ArgumentException e)
            {
                io.Error.WriteLine("cryoflow extract: " + e.Message);
                return ExitCodes.Usage;
            }
            string outDir = pr.GetValue(output)!.FullName;
            Directory.CreateDirectory(outDir);
            using var log = LogSetup.Create(pr.GetValue(verbose), Path.Combine(outDir, "extract.log"));
            log.Information("cryoflow {Version}: {CommandLine}", VersionCommand.Version, io.CommandLine);
            if (live is not null) return Watch(io, request, live, outDir, log);
            var plan = ExtractionPlan.Create(request.Sources, request.Options, log);
            io.Out.WriteLine(plan.Describe());
            var progress = new ProgressDisplay("extract", io.Error);
            var result = ExtractJob.Run(plan, outDir, log, p => progress.Report(p.MicrographsDone, p.MicrographCount));
            io.Out.WriteLine(result.Describe() + " -> " + result.StarPath);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Live mode: one line per poll that found something; Ctrl-C stops after the micrographs in hand.</summary>
    private static int Watch(ConsoleIo io, ExtractionRequest request, WatchOptions live, string outDir, Serilog.ILogger log)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var result = LiveExtractJob.Run(request.Sources, request.Options, live, outDir, log,
                p => io.Out.WriteLine($"{DateTime.Now:HH:mm:ss} {p.Particles} particles from {p.Micrographs} micrographs (+{p.NewParticles}; {p.Waiting} micrographs waiting)"),
                cancel.Token);
            io.Out.WriteLine($"stopped ({result.Reason}): {result.Particles} particles from {result.Micrographs} micrographs -> {result.StarPath}");
            return result.Reason == "cancelled" ? ExitCodes.Interrupted : ExitCodes.Ok;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
