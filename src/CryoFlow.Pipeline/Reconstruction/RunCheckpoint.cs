using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using CryoFlow.Formats.Checkpoints;
using CryoFlow.Formats.State;
using Serilog;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>
/// What a reconstruct checkpoint's <c>meta</c> section holds (JSON): where the run stands, the settings it was started
/// with, and the small state; the volumes and per-particle arrays are binary sections beside it
/// (<see cref="RunCheckpoint"/>).
/// </summary>
public sealed record CheckpointMeta
{
    /// <summary>What this is, for a person opening the file.</summary>
    public string Kind { get; init; } = "cryoflow reconstruct checkpoint";

    /// <summary>CryoFlow's version that wrote it.</summary>
    public required string CodeVersion { get; init; }

    public required DateTimeOffset Written { get; init; }

    /// <summary><see cref="Configuration.ReconstructConfig.ConfigHash"/> of <see cref="Config"/>.</summary>
    public required string ConfigHash { get; init; }

    /// <summary>The resolved configuration (RUN/config.json's text).</summary>
    public required string Config { get; init; }

    /// <summary>The command-line options the run was started with (and any given when it was resumed), so a resume keeps them.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    public required string ParticlesPath { get; init; }

    public required int ParticleCount { get; init; }

    public required int BoxSize { get; init; }

    /// <summary>
    /// The state of the run's random streams. Every random number a run draws comes from a generator seeded by
    /// Seeds.Mix(run seed, stream numbers) (the start, the split, each epoch's order, each particle's samples at each
    /// iteration), so the seed and the iteration are the whole RNG state.
    /// </summary>
    public required RandomState Random { get; init; }

    /// <summary>Iterations completed: the run continues with iteration + 1.</summary>
    public required long Iteration { get; init; }

    /// <summary>The quadrature stage (-1 before the first iteration) and the maximum frequency of every stage entered, in order.</summary>
    public required int Stage { get; init; }

    public required IReadOnlyList<double> StageFrequencies { get; init; }

    /// <summary>Stop rule: the best held-out NLL and the evaluations since it improved.</summary>
    public required double BestTestNll { get; init; }

    public required int SinceImprovement { get; init; }

    public double? LastTestNll { get; init; }

    /// <summary>The lowest minibatch objective so far (divergence check).</summary>
    public required double BestObjective { get; init; }

    /// <summary>Wall seconds of the run so far, over all its sessions.</summary>
    public required double ElapsedSeconds { get; init; }

    /// <summary>Bytes of metrics.jsonl at the checkpoint.</summary>
    public required long MetricsBytes { get; init; }

    /// <summary>The prior's model scale (mean positive density of the start).</summary>
    public required double ModelScale { get; init; }

    public required OptimiserMeta Optimiser { get; init; }

    /// <summary>Rollbacks after a diverging objective so far.</summary>
    public int Rollbacks { get; init; }

    /// <summary>Weights of the importance-sampling global distributions (directions, in-plane, shifts); empty without importance sampling.</summary>
    public IReadOnlyList<double> GlobalWeights { get; init; } = [];

    public IReadOnlyList<RejectedEntry> Rejected { get; init; } = [];

    /// <summary>A live (--watch) run's: its pool had <see cref="ParticleCount"/> particles and its plan this many minibatches (null: not live).</summary>
    public int? LiveBatchCount { get; init; }

    /// <summary>resolution.stop.keepBest: the iteration whose map is kept (its volume in the kept.volume section, its poses
    /// in kept-poses.snap) and its held-out NLL; null when none is kept.</summary>
    public long? KeptIteration { get; init; }

    public double? KeptTestNll { get; init; }
}

/// <param name="Seed">run.seed</param>
/// <param name="Scheme">how the streams are derived from it</param>
public sealed record RandomState(int Seed, string Scheme = "Seeds.Mix(seed, stream...) v1");

/// <summary>The optimiser's small state: L and its search state, and the step multiplier.</summary>
public sealed record OptimiserMeta(string Kind, double? Lipschitz, int? LastSearch, int? LastUpdate, double StepMultiplier);

/// <summary>A rejected particle and why.</summary>
public sealed record RejectedEntry(int Particle, string Reason);

/// <summary>
/// The files and sections of a reconstruct checkpoint (RUN/checkpoints/ckpt-NNNNNNNN/), and finding the one to resume.
/// <list type="bullet">
/// <item><c>checkpoint.bin</c> (<see cref="CheckpointFile"/>): <c>meta</c> (<see cref="CheckpointMeta"/> as JSON),
/// <c>volume</c> (D^3 floats), <c>optimiser.*</c> (SAGD's running sum, weights and bands; momentum's velocity;
/// AdaGrad's squared sums), <c>sampling.global.F</c> (the importance-sampling global distributions); checkpoints of
/// earlier builds also hold <c>poses</c>, now in poses.snap.</item>
/// <item><c>poses.snap</c>: each particle's most probable pose and its probability (<see cref="PoseStore"/>).</item>
/// <item><c>history.snap</c>: SAGD's per-minibatch band-limited gradients (<see cref="DiskGradientHistory"/>).</item>
/// <item><c>sampling.snap</c>: every particle's importance-sampling state.</item>
/// <item><c>kept-poses.snap</c> and the <c>kept.volume</c> section: the map and poses resolution.stop.keepBest holds.</item>
/// </list>
/// </summary>
public static class RunCheckpoint
{
    public const string FolderName = "checkpoints";
    public const string MainFile = "checkpoint.bin";
    public const string HistoryFile = "history.snap";
    public const string SamplingFile = "sampling.snap";
    public const string PosesFile = "poses.snap";
    public const string KeptPosesFile = "kept-poses.snap";

    /// <summary>Where checkpoints written before poses.snap kept the poses (still read on resume).</summary>
    internal const string MetaSection = "meta", VolumeSection = "volume", PosesSection = "poses", KeptVolumeSection = "kept.volume";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>CryoFlow's version, as checkpoints record it.</summary>
    public static string CodeVersion =>
        typeof(RunCheckpoint).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The checkpoints of a run folder.</summary>
    public static CheckpointFolder Folder(string run, CheckpointFileSystem? fileSystem = null) => new(Path.Combine(run, FolderName), fileSystem);

    /// <summary>Reads and verifies a checkpoint completely (its main file and the snapshots it names).</summary>
    /// <exception cref="Formats.Errors.CryoFlowDataException">it is damaged or incomplete</exception>
    public static (CheckpointContents Contents, CheckpointMeta Meta) Read(CheckpointEntry entry)
    {
        var contents = CheckpointFile.Read(entry.File(MainFile));
        CheckpointMeta meta;
        try
        {
            meta = JsonSerializer.Deserialize<CheckpointMeta>(contents.Get(MetaSection), Json)
                ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException("the meta section is not valid", new Formats.Errors.DataLocation(FilePath: contents.Path, Field: MetaSection), e);
        }
        foreach (string snapshot in new[] { HistoryFile, SamplingFile })
            if (File.Exists(entry.File(snapshot))) ParticleStateStore.VerifySnapshot(entry.File(snapshot));
        if (File.Exists(entry.File(PosesFile))) PoseStore.VerifySnapshot(entry.File(PosesFile), meta.ParticleCount);
        else if (!contents.Contains(PosesSection))
            throw new CheckpointFormatException("the checkpoint has no poses (no poses.snap, no poses section)", new Formats.Errors.DataLocation(FilePath: entry.Path, Field: PosesFile));
        if (meta.KeptIteration is not null)
        {
            if (!File.Exists(entry.File(KeptPosesFile)) || !contents.Contains(KeptVolumeSection))
                throw new CheckpointFormatException("the checkpoint keeps a map (keptIteration) but lacks its volume or poses", new Formats.Errors.DataLocation(FilePath: entry.Path, Field: KeptPosesFile));
            PoseStore.VerifySnapshot(entry.File(KeptPosesFile), meta.ParticleCount);
        }
        return (contents, meta);
    }

    /// <summary>
    /// The newest checkpoint of <paramref name="run"/> that reads back whole, or null when there is none. A damaged
    /// newer one is passed over with a warning (it is replaced when the run writes that iteration again).
    /// </summary>
    public static (CheckpointEntry Entry, CheckpointMeta Meta)? FindResumable(string run, ILogger log)
    {
        foreach (var entry in Folder(run).List())
        {
            try
            {
                return (entry, Read(entry).Meta);
            }
            catch (Exception e) when (e is Formats.Errors.CryoFlowDataException or IOException)
            {
                log.Warning("Checkpoint {Path} cannot be used: {Error}", entry.Path, e.Message);
            }
        }
        return null;
    }
}
