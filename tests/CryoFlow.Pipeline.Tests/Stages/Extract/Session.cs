using CryoFlow.Pipeline.Simulation;
using CryoFlow.Pipeline.Stages.Extract;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Pipeline.Tests.Stages.Extract;

/// <summary>A small simulated collection session: micrographs of 256 px with particles of the hand (box 32, 6 Å/px), picks, CTF.</summary>
internal static class Session
{
    public static SimulateMicrographsResult Simulate(string dir, int micrographs = 3, int perMicrograph = 6, double snr = double.PositiveInfinity, int size = 256, int seed = 3)
    {
        var (volume, box, voxel) = SimulateJob.LoadVolume(TestPaths.RealData("volumes/hand-vol.mrc"), 3.0, Logger.None);
        var particles = new SimulateOptions(dir, 1, Box: 32, Snr: snr, DefocusMin: 15000, DefocusMax: 25000, Astigmatism: 300, ShiftSigma: 1, Seed: seed, Threads: 2);
        return SimulateMicrographsJob.Run(volume, box, voxel, new SimulateMicrographsOptions(particles, micrographs, size, perMicrograph), Logger.None);
    }

    public static ExtractionSources Sources(SimulateMicrographsResult sim, bool ctf = true) =>
        new([Path.Combine(Path.GetDirectoryName(sim.CtfStarPath)!, SimulateMicrographsJob.MicrographFolder, "*.mrc")],
            [sim.PicksDirectory], ctf ? [sim.CtfStarPath] : []);

    public static ExtractionPlan Plan(SimulateMicrographsResult sim, ExtractOptions options, bool ctf = true) =>
        ExtractionPlan.Create(Sources(sim, ctf), options, Logger.None);
}
