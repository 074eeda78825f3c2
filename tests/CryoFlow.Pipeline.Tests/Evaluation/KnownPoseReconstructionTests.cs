using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Numerics.Evaluation;
using CryoFlow.Pipeline.Evaluation;
using CryoFlow.Pipeline.Simulation;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Evaluation;

/// <summary>
/// Least squares from the given poses against the simulation's truth: exact poses recover the truth, and a coarse shift
/// grid (the quick preset's three Gauss-Hermite nodes at 2 px sigma, 0 and +-3.46 px) costs the high shells, which is
/// the limit the issue-4 runs met (BENCHMARKS.md).
/// </summary>
public class KnownPoseReconstructionTests
{
    [Fact]
    public void ExactPosesRecoverTheTruthAndACoarseShiftGridCostsTheHighShells()
    {
        using var dir = new TempDir();
        SimulateJob.Run(TestPaths.RealData("volumes/hand-vol.mrc"),
            new SimulateOptions(dir.Path, 600, VoxelSize: 3.0, Box: 32, Snr: 1, ShiftSigma: 2, Seed: 3), Logger.None);
        var table = ParticleTable.Read(Path.Combine(dir.Path, SimulateJob.StarName));
        float[] truth;
        using (var r = MrcReader.OpenVolume(Path.Combine(dir.Path, SimulateJob.TruthName))) truth = r.ReadVolume();

        double HighShells(PosePerturbation p)
        {
            var map = KnownPoseReconstruction.Run(table, 600, 5, p);
            var fsc = FourierShellCorrelation.Compute(truth, map, 32, 3.0);
            // shells 6-13: 16 Å to 7.4 Å at 3 Å/px, box 32
            return fsc.Shells.Where(s => s.Shell >= 6 && s.Shell <= 13).Average(s => s.Correlation);
        }

        // measured: exact 0.773, 1 px grid 0.719, three Hermite nodes 0.312
        double exact = HighShells(PosePerturbation.None);
        double fine = HighShells(new PosePerturbation([-4, -3, -2, -1, 0, 1, 2, 3, 4]));
        double hermite3 = HighShells(new PosePerturbation([-3.46, 0, 3.46]));
        TestContext.Current.TestOutputHelper?.WriteLine($"mean FSC over shells 6-13: exact {exact:F3}, 1 px grid {fine:F3}, 3 Hermite nodes {hermite3:F3}");
        Assert.True(exact > 0.7, $"exact poses: mean FSC {exact:F3} over shells 6-13");
        Assert.True(fine > exact - 0.1, $"a 1 px shift grid: {fine:F3} against {exact:F3} exact");
        Assert.True(hermite3 < exact - 0.2, $"three Hermite nodes: {hermite3:F3} against {exact:F3} exact");
    }
}
