using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Runtime.InteropServices;
using CryoFlow.Cli.Logging;
using CryoFlow.Formats.Checkpoints;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.Pipeline.Stages.Extract.Watch;
using Serilog;

namespace CryoFlow.Cli.Commands;

/// <summary>
/// `cryoflow reconstruct PARTICLES --out RUN`: ab-initio reconstruction from a random start; or
/// `cryoflow reconstruct --micrographs ... --coords ... [--ctf ...] --box N --out RUN`: the same from micrographs and
/// picks, particles cut as they are read (or extracted first with --extract-to DIR); the checkpoint then stores the
/// extraction manifest (RUN/extraction.json) as the particles. A RUN folder that holds a checkpoint is resumed (with the options it was started with, overridden by those given now) unless --restart is
/// given; SIGINT and SIGTERM stop it after the current minibatch with a checkpoint.
/// </summary>
public static class ReconstructCommand
{
    /// <summary>The command's arguments and options, shared by parsing a command line and a checkpoint's stored one.</summary>
    internal sealed class Symbols
    {
        public Argument<FileInfo?> Particles { get; } = new("particles")
        {
            Description = "Particles: a RELION .star, a cryoSPARC .cs, a bare .mrcs stack (with --apix), or an extraction manifest (.json). Leave out with --micrographs, or when --out holds a checkpoint.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        public Option<DirectoryInfo> Out { get; } = new("--out") { Description = "Run folder: map.mrc, particles.star, metrics.jsonl, run.log, config.json, iterations/, checkpoints/. A folder with a checkpoint is resumed.", Required = true };
        public Option<FileInfo?> Config { get; } = new("--config") { Description = "Parameter preset, e.g. configs/quick.json (default: the built-in defaults = configs/default.json)." };
        public Option<string[]> Sets { get; } = new("--set") { Description = "Override a configuration key: --set optimiser.kind=nesterov (repeatable).", AllowMultipleArgumentsPerToken = false };
        public Option<int?> Threads { get; } = new("--threads") { Description = "Worker threads (run.threads)." };
        public Option<int?> Seed { get; } = new("--seed") { Description = "Random seed (run.seed)." };
        public Option<int?> MaxIterations { get; } = new("--max-iterations") { Description = "Hard cap on iterations (run.maxIterations); outputs are still written." };
        public Option<string?> TimeLimit { get; } = new("--time-limit") { Description = "Hard cap on this session's wall time, e.g. 8h, 90m, 3600s (run.timeLimitMinutes)." };
        public Option<double?> Target { get; } = new("--target-resolution") { Description = "Stop refining at this resolution in Å (resolution.targetResolution)." };
        public Option<double?> Apix { get; } = new("--apix") { Description = "Pixel size in Å when the input does not give it (data.pixelSize)." };
        public Option<DirectoryInfo?> DataDir { get; } = new("--datadir") { Description = "Extra folder where stacks named in the particle file are looked for." };
        public Option<BadParticlePolicy?> Bad { get; } = new("--on-bad-particle") { Description = "skip (default): list bad particles in RUN/rejected.star and go on; fail: check all first and stop before writing anything." };
        public Option<bool?> Verbose { get; } = new("--verbose", "-v") { Description = "Log to the console too (run.log always has everything)." };
        public Option<int?> CheckpointEvery { get; } = new("--checkpoint-every") { Description = "Write a checkpoint every N iterations (output.checkpoint.everyIterations; 0: none)." };
        public Option<double?> CheckpointMinutes { get; } = new("--checkpoint-minutes") { Description = "Write a checkpoint every T minutes (output.checkpoint.everyMinutes; 0: none)." };
        public Option<DirectoryInfo?> Cache { get; } = new("--cache") { Description = "Keep prepared particles in this folder, so later epochs and runs skip reading and transforming them (about 4.5x the stack's size)." };
        public Option<string?> MaxMemory { get; } = new("--max-memory") { Description = "Refuse to start when the run's estimated peak memory exceeds this, e.g. 2G or 1500M; the message says what would fit." };
        public Option<bool> Restart { get; } = new("--restart") { Description = "Start over even if --out holds a checkpoint (the earlier run's outputs are removed)." };
        public Option<bool> AllowConfigChange { get; } = new("--allow-config-change") { Description = "Resume even though a setting that changes the result differs from the checkpoint's (the change is logged)." };
        public ExtractArguments Extract { get; } = new();
        public WatchArguments Watch { get; } = new("add its particles to the run; new particles join the minibatches at the next epoch");
        public Option<DirectoryInfo?> ExtractTo { get; } = new("--extract-to") { Description = "With --micrographs: write the extracted stacks and particles.star there first (default: cut particles as they are read, writing no stack)." };

        public Command Command { get; }

        public Symbols()
        {
            Command = new Command("reconstruct", "Reconstruct a 3D map from particle images, from a random start (SAGD with poses marginalised).")
            {
                Particles, Out, Config, Sets, Threads, Seed, MaxIterations, TimeLimit, Target, Apix, DataDir, Bad, Verbose,
                CheckpointEvery, CheckpointMinutes, Cache, MaxMemory, Restart, AllowConfigChange, ExtractTo,
            };
            foreach (var o in Extract.All) Command.Options.Add(o);
            foreach (var o in Watch.All) Command.Options.Add(o);
        }
    }

    /// <summary>
    /// The options of one invocation, each null when it was not given: what a checkpoint stores (as arguments) and what a
    /// resume lays over it. --restart and --allow-config-change belong to one invocation and are never stored.
    /// </summary>
    internal sealed record Invocation
    {
        public string? Particles { get; init; }
        public string? Out { get; init; }
        public string? Preset { get; init; }
        public IReadOnlyList<string> Sets { get; init; } = [];
        public int? Threads { get; init; }
        public int? Seed { get; init; }
        public int? MaxIterations { get; init; }
        public string? TimeLimit { get; init; }
        public double? Target { get; init; }
        public double? Apix { get; init; }
        public string? DataDir { get; init; }
        public BadParticlePolicy? BadParticles { get; init; }
        public bool? Verbose { get; init; }
        public int? CheckpointEvery { get; init; }
        public double? CheckpointMinutes { get; init; }
        public string? Cache { get; init; }
        public string? MaxMemory { get; init; }

        /// <summary>The values given explicitly on a parsed command line (paths made absolute).</summary>
        public static Invocation From(ParseResult pr, Symbols s)
        {
            T? Given<T>(Option<T> o) => pr.GetResult(o) is { Implicit: false } ? pr.GetValue(o) : default;
            return new Invocation
            {
                Particles = pr.GetValue(s.Particles)?.FullName,
                Out = Given(s.Out)?.FullName,
                Preset = Given(s.Config)?.FullName,
                Sets = Given(s.Sets) ?? [],
                Threads = Given(s.Threads),
                Seed = Given(s.Seed),
                MaxIterations = Given(s.MaxIterations),
                TimeLimit = Given(s.TimeLimit),
                Target = Given(s.Target),
                Apix = Given(s.Apix),
                DataDir = Given(s.DataDir)?.FullName,
                BadParticles = Given(s.Bad),
                Verbose = Given(s.Verbose),
                CheckpointEvery = Given(s.CheckpointEvery),
                CheckpointMinutes = Given(s.CheckpointMinutes),
                Cache = Given(s.Cache)?.FullName,
                MaxMemory = Given(s.MaxMemory),
            };
        }

        /// <summary>
        /// A checkpoint's stored arguments, parsed as a command line; a checkpoint of a run started in-process (the demo)
        /// stores none, and then only its particles are known.
        /// </summary>
        /// <exception cref="CheckpointFormatException">they do not parse (written by another version)</exception>
        public static Invocation Parse(CheckpointEntry entry, CheckpointMeta meta, Symbols s)
        {
            if (meta.Arguments.Count == 0) return new Invocation { Particles = meta.ParticlesPath };
            var pr = s.Command.Parse(meta.Arguments);
            if (pr.Errors.Count > 0)
                throw new CheckpointFormatException("the checkpoint's stored options do not parse", new Formats.Errors.DataLocation(
                    FilePath: entry.File(RunCheckpoint.MainFile), Field: "arguments", Expected: "reconstruct options", Found: $"{string.Join(' ', meta.Arguments)} ({pr.Errors[0].Message})"));
            return From(pr, s);
        }

        /// <summary>These values over <paramref name="stored"/>'s; --set overrides accumulate (the stored ones first).</summary>
        public Invocation Over(Invocation stored) => new()
        {
            Particles = Particles ?? stored.Particles,
            Out = Out ?? stored.Out,
            Preset = Preset ?? stored.Preset,
            Sets = [.. stored.Sets, .. Sets],
            Threads = Threads ?? stored.Threads,
            Seed = Seed ?? stored.Seed,
            MaxIterations = MaxIterations ?? stored.MaxIterations,
            TimeLimit = TimeLimit ?? stored.TimeLimit,
            Target = Target ?? stored.Target,
            Apix = Apix ?? stored.Apix,
            DataDir = DataDir ?? stored.DataDir,
            BadParticles = BadParticles ?? stored.BadParticles,
            Verbose = Verbose ?? stored.Verbose,
            CheckpointEvery = CheckpointEvery ?? stored.CheckpointEvery,
            CheckpointMinutes = CheckpointMinutes ?? stored.CheckpointMinutes,
            Cache = Cache ?? stored.Cache,
            MaxMemory = MaxMemory ?? stored.MaxMemory,
        };

        /// <summary>Whether anything given changes the configuration (a preset, --set or an option that stands for a key).</summary>
        public bool ChangesConfig => Preset is not null || Overrides().Count > 0;

        /// <summary>The configuration overrides: --set, then the options that stand for keys.</summary>
        public IReadOnlyList<string> Overrides()
        {
            var overrides = new List<string>(Sets);
            void Add(string key, string? value) { if (value is not null) overrides.Add($"{key}={value}"); }
            var c = CultureInfo.InvariantCulture;
            Add("run.threads", Threads?.ToString(c));
            Add("run.seed", Seed?.ToString(c));
            Add("run.maxIterations", MaxIterations?.ToString(c));
            Add("run.timeLimitMinutes", TimeLimit is string t ? ParseDuration(t).TotalMinutes.ToString("R", c) : null);
            Add("resolution.targetResolution", Target?.ToString("R", c));
            Add("data.pixelSize", Apix?.ToString("R", c));
            Add("output.checkpoint.everyIterations", CheckpointEvery?.ToString(c));
            Add("output.checkpoint.everyMinutes", CheckpointMinutes?.ToString("R", c));
            return overrides;
        }

        /// <summary>The command line that gives these values (what a checkpoint stores).</summary>
        public IReadOnlyList<string> ToArguments()
        {
            var args = new List<string>();
            var c = CultureInfo.InvariantCulture;
            if (Particles is not null) args.Add(Particles);
            void Add(string name, string? value) { if (value is not null) args.AddRange([name, value]); }
            Add("--out", Out);
            Add("--config", Preset);
            foreach (string set in Sets) Add("--set", set);
            Add("--threads", Threads?.ToString(c));
            Add("--seed", Seed?.ToString(c));
            Add("--max-iterations", MaxIterations?.ToString(c));
            Add("--time-limit", TimeLimit);
            Add("--target-resolution", Target?.ToString("R", c));
            Add("--apix", Apix?.ToString("R", c));
            Add("--datadir", DataDir);
            Add("--on-bad-particle", BadParticles?.ToString().ToLowerInvariant());
            Add("--verbose", Verbose is bool v ? (v ? "true" : "false") : null);
            Add("--checkpoint-every", CheckpointEvery?.ToString(c));
            Add("--checkpoint-minutes", CheckpointMinutes?.ToString("R", c));
            Add("--cache", Cache);
            Add("--max-memory", MaxMemory);
            return args;
        }
    }

    public static Command Create(ConsoleIo io)
    {
        var s = new Symbols();
        s.Command.SetAction(pr =>
        {
            var given = Invocation.From(pr, s);
            ExtractionRequest? picks = null;
            WatchOptions? live;
            try
            {
                if (s.Extract.Given(pr))
                {
                    if (given.Particles is not null) throw new ArgumentException("give a particle file or --micrographs with --coords, not both");
                    picks = s.Extract.Read(pr, pr.GetValue(s.Threads) ?? 0, pr.GetValue(s.ExtractTo)?.FullName);
                }
                live = s.Watch.Read(pr);
                if (live is not null && picks is null) throw new ArgumentException("--watch follows micrographs and picks: give --micrographs, --coords and --box");
                if (live is not null && picks!.ExtractTo is not null) throw new ArgumentException("--watch cuts particles as they are read; for stacks use cryoflow extract --watch");
            }
            catch (ArgumentException e)
            {
                io.Error.WriteLine("cryoflow reconstruct: " + e.Message);
                return ExitCodes.Usage;
            }
            return Execute(io, given, pr.GetValue(s.Restart), pr.GetValue(s.AllowConfigChange), s, picks, live);
        });
        return s.Command;
    }

    /// <summary>Resolves the configuration and runs; shared by `reconstruct` and `run RECIPE`.</summary>
    /// <param name="particlesPath">the particle file, or null with <paramref name="picks"/></param>
    /// <param name="picks">micrographs and picks to extract from, instead of a particle file</param>
    internal static int Execute(ConsoleIo io, string? particlesPath, string run, string? preset, IReadOnlyList<string> overrides, string? datadir,
        BadParticlePolicy bad, bool verbose, ExtractionRequest? picks = null) =>
        Execute(io, new Invocation
        {
            Particles = particlesPath is null ? null : Path.GetFullPath(particlesPath),
            Out = Path.GetFullPath(run),
            Preset = preset is null ? null : Path.GetFullPath(preset),
            Sets = overrides,
            DataDir = datadir is null ? null : Path.GetFullPath(datadir),
            BadParticles = bad,
            Verbose = verbose,
        }, restart: false, allowConfigChange: false, new Symbols(), picks);

    private static int Execute(ConsoleIo io, Invocation given, bool restart, bool allowConfigChange, Symbols symbols, ExtractionRequest? picks = null, WatchOptions? live = null)
    {
        string run = given.Out ?? throw new InvalidOperationException("--out is required");
        // the checkpoint to resume, and everything that decides the run, before the log (and so the folder) is touched
        var notes = new List<string>();
        var found = restart ? null : RunCheckpoint.FindResumable(run, new LoggerConfiguration().WriteTo.Sink(new NoteSink(notes)).CreateLogger());
        if (live is not null && found is not null)
        {
            io.Error.WriteLine($"cryoflow reconstruct: --watch starts a new live run, and {run} holds a checkpoint; give --restart to start over there, or another --out");
            return ExitCodes.Usage;
        }
        if (found?.Meta.LiveBatchCount is not null)
        {
            io.Error.WriteLine($"cryoflow reconstruct: {run} holds a live (--watch) run, which cannot be resumed (its pool of particles is not kept); "
                + "its outputs up to its last checkpoint are there. --restart starts a new run in that folder");
            return ExitCodes.BadInput;
        }
        Invocation effective;
        ReconstructConfig config;
        if (found is { } checkpoint)
        {
            var (entry, meta) = checkpoint;
            effective = given.Over(Invocation.Parse(entry, meta, symbols)) with { Out = run };
            config = !given.ChangesConfig ? ReconstructConfig.FromJson(meta.Config, entry.File(RunCheckpoint.MainFile))
                : given.Preset is not null ? ReconstructConfig.Load(effective.Preset, effective.Overrides())
                : ReconstructConfig.FromJson(meta.Config, entry.File(RunCheckpoint.MainFile), given.Overrides());
        }
        else
        {
            effective = given;
            if (effective.Particles is null && picks is null)
            {
                io.Error.WriteLine($"cryoflow reconstruct: give the particles: {run} holds no checkpoint to resume");
                return ExitCodes.Usage;
            }
            config = ReconstructConfig.Load(effective.Preset, effective.Overrides());
        }
        long? budget = effective.MaxMemory is string m ? MemoryBudget.Parse(m) : null;

        Directory.CreateDirectory(run);
        IReadOnlyList<string> cleared = found is null && RunFolder.HasOutputs(run) ? RunFolder.Clear(run, includeStarts: restart) : [];
        using var log = LogSetup.Create(effective.Verbose ?? false, Path.Combine(run, "run.log"));
        string commandLine = io.CommandLine;
        if (found is { } resume)
        {
            // not the "cryoflow VERSION: COMMAND" banner: the log (and the report) keep the run's own first line
            log.Information("cryoflow {Version} resuming the run in {Run}: {CommandLine}", VersionCommand.Version, run, commandLine);
            log.Information("Options from the checkpoint: {Stored}", string.Join(' ', resume.Meta.Arguments));
            var now = (given with { Particles = null, Out = null }).ToArguments();
            if (now.Count > 0) log.Information("Options given now, over those: {Given}", string.Join(' ', now));
            io.Error.WriteLine($"cryoflow: resuming {run} from the checkpoint after iteration {resume.Meta.Iteration} ({resume.Entry.Path}); --restart starts over");
        }
        else
        {
            log.Information("cryoflow {Version}: {CommandLine}", VersionCommand.Version, commandLine);
            if (restart || cleared.Count > 0) log.Information("Starting over: removed the earlier run's {Removed}", string.Join(", ", cleared));
        }
        foreach (string note in notes) log.Warning("{Note}", note);
        if (picks is not null)
        {
            if (found is null) effective = effective with { Particles = picks.Prepare(run, log) };
            else log.Warning("Resuming: the extraction options are not used; the checkpoint's particles ({Particles}) are", effective.Particles);
        }
        log.Information("Configuration hash {Hash}", config.ConfigHash());

        var request = new ReconstructRequest(effective.Particles!, run, config, effective.DataDir, effective.BadParticles ?? BadParticlePolicy.Skip, commandLine)
        {
            ResumeFrom = found?.Entry,
            AllowConfigChange = allowConfigChange,
            Arguments = effective.ToArguments(),
            CacheDirectory = effective.Cache,
            MaxMemoryBytes = budget,
            Live = live is null ? null : new LiveParticles(picks!.Sources, picks.Options, live, log),
        };
        var display = new RunDisplay(io.Error);
        using var cancel = new CancellationTokenSource();
        using var signals = new StopSignals(io.Error, cancel);
        ReconstructResult result;
        using var pool = request.Live;
        try
        {
            result = ReconstructJob.Run(request, log, display.Report, cancel.Token);
        }
        catch (Exception e) when (e is Formats.Errors.CryoFlowDataException or IOException or ReconstructionDivergedException)
        {
            log.Information("Run stopped: {Error}", e.Message); // for run.log; CliApp tells the console
            throw;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            string starts = Path.Combine(run, ReconstructJob.StartsFolder);
            if (request.Config.Run.Starts > 1 && Directory.Exists(starts))
                log.Information("Stopped by a signal while racing the random starts; the starts resume from their checkpoints in {Folder} when the same command is run again",
                    starts);
            else
                log.Information("Stopped by a signal before the first iteration; nothing was written");
            return signals.ExitCode; // a signal while checking the particles (--on-bad-particle fail)
        }
        display.Finish();
        io.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.Reason}: {result.Iterations} iterations{(result.ResumedFrom is long r ? $" (resumed at {r})" : "")} in {result.Seconds:F0} s, final maximum frequency {1 / result.FinalMaxFrequency:F1} Å; map {result.MapPath}{(result.MapIteration != result.Iterations ? $" (of iteration {result.MapIteration}, whose held-out NLL was the lowest)" : "")}, poses {result.ParticlesStarPath}{(result.Rejected > 0 ? $", {result.Rejected} particles rejected (rejected.star)" : "")}"));
        return result.Reason == StopReason.Cancelled ? signals.ExitCode : ExitCodes.Ok;
    }

    /// <summary>8h, 90m, 3600s, 1.5h; a bare number is minutes.</summary>
    internal static TimeSpan ParseDuration(string text) => WatchOptions.ParseDuration(text, "--time-limit");

    /// <summary>Collects warnings raised before the run's log exists (a damaged checkpoint passed over).</summary>
    private sealed class NoteSink(List<string> notes) : Serilog.Core.ILogEventSink
    {
        public void Emit(Serilog.Events.LogEvent logEvent) => notes.Add(logEvent.RenderMessage());
    }
}

/// <summary>
/// SIGINT (Ctrl-C) and SIGTERM during a run: the first cancels it, so the minibatch in flight finishes, a checkpoint
/// and the outputs are written, and the process exits with 130 (SIGINT) or 143 (SIGTERM). A second signal exits at
/// once with the same status; the last checkpoint stays valid (checkpoints are published by an atomic rename).
/// </summary>
internal sealed class StopSignals : IDisposable
{
    private readonly TextWriter _error;
    private readonly CancellationTokenSource _cancel;
    private readonly PosixSignalRegistration[] _registrations;
    private int _received;

    public StopSignals(TextWriter error, CancellationTokenSource cancel)
    {
        _error = error;
        _cancel = cancel;
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>The exit status of the first signal received (130 without one: a cancellation from elsewhere).</summary>
    public int ExitCode { get; private set; } = ExitCodes.Interrupted;

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true; // the run decides when to exit, not the runtime
        string name = context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT";
        if (Interlocked.Increment(ref _received) == 1)
        {
            ExitCode = context.Signal == PosixSignal.SIGTERM ? ExitCodes.Terminated : ExitCodes.Interrupted;
            _error.WriteLine($"\ncryoflow: {name}: finishing the current minibatch, then writing a checkpoint and the outputs (again to exit at once)");
            _cancel.Cancel();
            return;
        }
        _error.WriteLine($"cryoflow: {name} again: exiting at once; the last checkpoint stays valid");
        _error.Flush();
        Environment.Exit(ExitCode);
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
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
            $"\rreconstruct {p.Stage}: iteration {p.Iteration}/{p.MaxIterations}, {p.Particles:N0} particles, {p.Resolution:F1} Å, objective {p.Objective:G6}, test NLL {p.TestNll?.ToString("G6", CultureInfo.InvariantCulture) ?? "-"}, {p.ParticlesPerSecond:F0} particles/s, at most {eta:hh\\:mm\\:ss} left   "));
        _wrote = true;
    }

    public void Finish()
    {
        if (_wrote) error.WriteLine();
    }
}
