using System.CommandLine;
using System.Globalization;
using CryoFlow.Cli.Logging;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.Pipeline.Stages.Extract.Watch;

namespace CryoFlow.Cli.Commands;

/// <summary>
/// `cryoflow reconstruct PARTICLES --out RUN`: ab-initio reconstruction from a random start; or
/// `cryoflow reconstruct --micrographs ... --coords ... [--ctf ...] --box N --out RUN`: the same from micrographs and
/// picks, particles cut as they are read (or extracted first with --extract-to DIR).
/// </summary>
public static class ReconstructCommand
{
    public static Command Create(ConsoleIo io)
    {
        var particles = new Argument<FileInfo?>("particles") { Description = "Particles: a RELION .star, a cryoSPARC .cs, a bare .mrcs stack (with --apix), or an extraction manifest (.json). Leave out with --micrographs.", Arity = ArgumentArity.ZeroOrOne };
        var extract = new ExtractArguments();
        var extractTo = new Option<DirectoryInfo?>("--extract-to") { Description = "With --micrographs: write the extracted stacks and particles.star there first (default: cut particles as they are read, writing no stack)." };
        var output = new Option<DirectoryInfo>("--out") { Description = "Run folder: map.mrc, particles.star, metrics.jsonl, run.log, config.json, iterations/.", Required = true };
        var config = new Option<FileInfo?>("--config") { Description = "Parameter preset, e.g. configs/quick.json (default: the built-in defaults = configs/default.json)." };
        var sets = new Option<string[]>("--set") { Description = "Override a configuration key: --set optimiser.kind=nesterov (repeatable).", AllowMultipleArgumentsPerToken = false };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (run.threads)." };
        var seed = new Option<int?>("--seed") { Description = "Random seed (run.seed)." };
        var maxIterations = new Option<int?>("--max-iterations") { Description = "Hard cap on iterations (run.maxIterations); outputs are still written." };
        var timeLimit = new Option<string?>("--time-limit") { Description = "Hard cap on wall time, e.g. 8h, 90m, 3600s (run.timeLimitMinutes)." };
        var target = new Option<double?>("--target-resolution") { Description = "Stop refining at this resolution in Å (resolution.targetResolution)." };
        var apix = new Option<double?>("--apix") { Description = "Pixel size in Å when the input does not give it (data.pixelSize)." };
        var datadir = new Option<DirectoryInfo?>("--datadir") { Description = "Extra folder where stacks named in the particle file are looked for." };
        var bad = new Option<BadParticlePolicy>("--on-bad-particle") { Description = "skip: list bad particles in RUN/rejected.star and go on; fail: check all first and stop before writing anything.", DefaultValueFactory = _ => BadParticlePolicy.Skip };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log to the console too (run.log always has everything)." };
        var command = new Command("reconstruct", "Reconstruct a 3D map from particle images, from a random start (SAGD with poses marginalised).")
        {
            particles, output, config, sets, threads, seed, maxIterations, timeLimit, target, apix, datadir, bad, verbose, extractTo,
        };
        foreach (var o in extract.All) command.Options.Add(o);
        command.SetAction(pr =>
        {
            var overrides = new List<string>(pr.GetValue(sets) ?? []);
            void Add(string key, string? value) { if (value is not null) overrides.Add($"{key}={value}"); }
            Add("run.threads", pr.GetValue(threads)?.ToString(CultureInfo.InvariantCulture));
            Add("run.seed", pr.GetValue(seed)?.ToString(CultureInfo.InvariantCulture));
            Add("run.maxIterations", pr.GetValue(maxIterations)?.ToString(CultureInfo.InvariantCulture));
            Add("run.timeLimitMinutes", pr.GetValue(timeLimit) is string t ? ParseDuration(t).TotalMinutes.ToString("R", CultureInfo.InvariantCulture) : null);
            Add("resolution.targetResolution", pr.GetValue(target)?.ToString("R", CultureInfo.InvariantCulture));
            Add("data.pixelSize", pr.GetValue(apix)?.ToString("R", CultureInfo.InvariantCulture));
            string? input = pr.GetValue(particles)?.FullName;
            ExtractionRequest? picks = null;
            try
            {
                if (extract.Given(pr) == (input is not null)) throw new ArgumentException("give a particle file or --micrographs with --coords, one of the two");
                if (input is null) picks = extract.Read(pr, pr.GetValue(threads) ?? 0, pr.GetValue(extractTo)?.FullName);
            }
            catch (ArgumentException e)
            {
                io.Error.WriteLine("cryoflow reconstruct: " + e.Message);
                return ExitCodes.Usage;
            }
            return Execute(io, input, pr.GetValue(output)!.FullName, pr.GetValue(config)?.FullName, overrides,
                pr.GetValue(datadir)?.FullName, pr.GetValue(bad), pr.GetValue(verbose), picks);
        });
        return command;
    }

    /// <summary>Resolves the configuration and runs; shared by `reconstruct` and `run RECIPE`.</summary>
    /// <param name="particlesPath">the particle file, or null with <paramref name="picks"/></param>
    /// <param name="picks">micrographs and picks to extract from, instead of a particle file</param>
    internal static int Execute(ConsoleIo io, string? particlesPath, string run, string? preset, IReadOnlyList<string> overrides, string? datadir,
        BadParticlePolicy bad, bool verbose, ExtractionRequest? picks = null)
    {
        {
            var resolved = ReconstructConfig.Load(preset, overrides);
            Directory.CreateDirectory(run);
            using var log = LogSetup.Create(verbose, Path.Combine(run, "run.log"));
            string commandLine = io.CommandLine;
            log.Information("cryoflow {Version}: {CommandLine}", VersionCommand.Version, commandLine);
            log.Information("Configuration hash {Hash}", resolved.ConfigHash());
            particlesPath ??= picks!.Prepare(run, log);
            var request = new ReconstructRequest(particlesPath, run, resolved, datadir, bad, commandLine);
            var display = new RunDisplay(io.Error);
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                var result = ReconstructJob.Run(request, log, display.Report, cancel.Token);
                display.Finish();
                io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.Reason}: {result.Iterations} iterations in {result.Seconds:F0} s, final maximum frequency {1 / result.FinalMaxFrequency:F1} Å; map {result.MapPath}, poses {result.ParticlesStarPath}{(result.Rejected > 0 ? $", {result.Rejected} particles rejected (rejected.star)" : "")}"));
                return result.Reason == StopReason.Cancelled ? ExitCodes.Interrupted : ExitCodes.Ok;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        }
    }

    /// <summary>8h, 90m, 3600s, 1.5h; a bare number is minutes.</summary>
    internal static TimeSpan ParseDuration(string text) => WatchOptions.ParseDuration(text, "--time-limit");
}

/// <summary>The run's console line: iteration, resolution, objective, test NLL, speed and ETA; only on a terminal.</summary>
internal sealed class RunDisplay(TextWriter error)
{
    private readonly bool _live = !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error);
    private bool _wrote;

    public void Report(RunProgress p)
    {
        if (!_live) return;
        double perIteration = p.Iteration > 0 ? p.Elapsed.TotalSeconds / p.Iteration : 0;
        var eta = TimeSpan.FromSeconds(perIteration * Math.Max(0, p.MaxIterations - p.Iteration));
        error.Write(string.Create(CultureInfo.InvariantCulture,
            $"\rreconstruct {p.Stage}: iteration {p.Iteration}/{p.MaxIterations}, {p.Resolution:F1} Å, objective {p.Objective:G6}, test NLL {p.TestNll?.ToString("G6", CultureInfo.InvariantCulture) ?? "-"}, {p.ParticlesPerSecond:F0} particles/s, at most {eta:hh\\:mm\\:ss} left   "));
        _wrote = true;
    }

    public void Finish()
    {
        if (_wrote) error.WriteLine();
    }
}
