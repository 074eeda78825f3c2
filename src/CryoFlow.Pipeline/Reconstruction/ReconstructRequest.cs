using CryoFlow.Formats.Checkpoints;
using CryoFlow.Formats.Particles;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Stages.Read;

namespace CryoFlow.Pipeline.Reconstruction;

/// <summary>What to do with a particle that cannot be read or prepared.</summary>
public enum BadParticlePolicy
{
    /// <summary>List it in RUN/rejected.star with the reason and go on (the default).</summary>
    Skip,

    /// <summary>Check every particle before the run starts and stop, writing nothing, at the first bad one.</summary>
    Fail,
}

/// <summary>One `cryoflow reconstruct` run.</summary>
/// <param name="ParticlesPath">.star, .cs or .mrcs</param>
/// <param name="OutputDirectory">RUN</param>
/// <param name="Config">the resolved configuration</param>
/// <param name="DataDir">extra folder to look for stacks in</param>
/// <param name="BadParticles">skip or fail</param>
/// <param name="CommandLine">for run.log</param>
public sealed record ReconstructRequest(
    string ParticlesPath,
    string OutputDirectory,
    ReconstructConfig Config,
    string? DataDir = null,
    BadParticlePolicy BadParticles = BadParticlePolicy.Skip,
    string CommandLine = "")
{
    /// <summary>The checkpoint to continue from (<see cref="RunCheckpoint.FindResumable"/>); null to start afresh.</summary>
    public CheckpointEntry? ResumeFrom { get; init; }

    /// <summary>Resume even when <see cref="Config"/> differs from the checkpoint's in keys that change the result (logged).</summary>
    public bool AllowConfigChange { get; init; }

    /// <summary>The command-line options, stored in every checkpoint so that a resume keeps them.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>--cache: a folder for prepared particles, reused across epochs and runs; null for none.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>--max-memory: the run refuses to start when its estimate exceeds this many bytes; null for no limit.</summary>
    public long? MaxMemoryBytes { get; init; }

    /// <summary>How transient read errors are retried.</summary>
    public ReadRetryOptions ReadRetry { get; init; } = new();

    /// <summary>Where checkpoints are written through (tests inject faults here); null for the real file system.</summary>
    public CheckpointFileSystem? CheckpointFiles { get; init; }

    /// <summary>
    /// Live mode (`--watch`): the growing pool of particles from micrographs that keep arriving; the run starts once it
    /// holds enough and stops when the watch ends. Null for a fixed dataset (<see cref="ParticlesPath"/>).
    /// </summary>
    public Stages.Extract.Watch.LiveParticles? Live { get; init; }

    /// <summary>Wraps the particle image source (tests inject read faults here); null for none.</summary>
    public Func<IParticleImageSource, IParticleImageSource>? ImageSource { get; init; }
}

/// <summary>Why a run ended.</summary>
public enum StopReason
{
    /// <summary>The maximum frequency reached its ceiling and the held-out NLL stopped improving.</summary>
    Converged,
    MaxIterations,
    TimeLimit,
    Cancelled,

    /// <summary>A live run's watch ended (--watch-until, --watch-idle, the stop file).</summary>
    WatchEnded,
}

/// <summary>What a run produced.</summary>
/// <param name="Iterations">iterations completed, over every session of the run</param>
/// <param name="ResumedFrom">the iteration the run was resumed from; null for a fresh start</param>
/// <param name="Rollbacks">rollbacks to a good checkpoint after the objective diverged</param>
public sealed record ReconstructResult(string MapPath, string ParticlesStarPath, long Iterations, StopReason Reason, double Seconds, int Rejected, double FinalMaxFrequency,
    long? ResumedFrom = null, int Rollbacks = 0)
{
    /// <summary>The iteration whose map and poses were written: <see cref="Iterations"/>, or an earlier one that
    /// resolution.stop.keepBest kept.</summary>
    public long MapIteration { get; init; } = Iterations;

    /// <summary>The held-out mean NLL of the map written (null when no stage was entered).</summary>
    public double? TestNll { get; init; }

    /// <summary>run.starts &gt; 1: each start's seed and held-out NLL after run.startIterations, and the one continued.</summary>
    public IReadOnlyList<StartOutcome> Starts { get; init; } = [];
}

/// <summary>One random start of a race (run.starts): its start seed, its held-out NLL (null if it diverged), whether the run continued it.</summary>
public sealed record StartOutcome(int Index, int StartSeed, double? TestNll, bool Chosen);

/// <summary>The objective kept diverging (NaN or exploding) after every rollback allowed; no output was written.</summary>
public sealed class ReconstructionDivergedException(string message) : Exception(message);
