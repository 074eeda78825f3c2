using CryoFlow.Pipeline.Configuration;

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
    string CommandLine = "");

/// <summary>Why a run ended.</summary>
public enum StopReason
{
    /// <summary>The maximum frequency reached its ceiling and the held-out NLL stopped improving.</summary>
    Converged,
    MaxIterations,
    TimeLimit,
    Cancelled,
}

/// <summary>What a run produced.</summary>
public sealed record ReconstructResult(string MapPath, string ParticlesStarPath, long Iterations, StopReason Reason, double Seconds, int Rejected, double FinalMaxFrequency);
