using CryoFlow.Formats.Checkpoints;
using CryoFlow.Pipeline.Configuration;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.Pipeline.Simulation;
using CryoFlow.TestSupport;
using Serilog;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Reconstruction;

/// <summary>Tiny runs for the checkpoint, resume and fault tests: box 32, 160 particles, two minibatches, checkpoints every iteration.</summary>
internal static class TinyRuns
{
    public static SimulateResult Simulate(string dir, int count = 160) =>
        SimulateJob.Run(TestPaths.RealData("volumes/hand-vol.mrc"),
            new SimulateOptions(dir, count, VoxelSize: 3.0, Box: 32, Snr: 0.2, ShiftSigma: 1, Seed: 5), Logger.None);

    /// <summary>The quick preset, its frequency stepping every 15 iterations and the held-out set evaluated every 7.</summary>
    public static ReconstructConfig Config(int iterations, params string[] extra) => ReconstructConfig.Load(
        Path.Combine(TestPaths.RepoRoot, "configs", "quick.json"),
        [$"run.maxIterations={iterations}", "run.threads=2", "quadrature.shiftSigma=6", "quadrature.shiftExtent=12", "data.testSetSize=20",
            "resolution.maxFrequency.every=15", "evaluation.testEvery=7", "output.checkpoint.everyIterations=1", .. extra]);

    public static ReconstructResult Run(ReconstructRequest request, ILogger? log = null, long? stopAfter = null)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Action<RunProgress>? progress = stopAfter is long n ? p => { if (p.Iteration >= n) cancel.Cancel(); } : null;
        return ReconstructJob.Run(request, log ?? Logger.None, progress, cancel.Token);
    }

    /// <summary>The checkpoint a resume would continue from.</summary>
    public static CheckpointEntry Latest(string run) => RunCheckpoint.FindResumable(run, Logger.None)?.Entry ?? throw new InvalidOperationException($"no checkpoint in {run}");
}
