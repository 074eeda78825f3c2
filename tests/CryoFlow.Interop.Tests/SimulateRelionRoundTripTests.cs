using System.Globalization;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Numerics.Evaluation;
using CryoFlow.Pipeline.Simulation;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Interop.Tests;

/// <summary>
/// A stack made by CryoFlow's simulator, reconstructed by relion_reconstruct --ctf from CryoFlow's own
/// STAR file, must reproduce the ground truth: this proves angles, shifts, centre and CTF sign
/// against RELION. Negative controls (origins negated, CTF phase flipped) show the test can fail.
/// </summary>
public class SimulateRelionRoundTripTests
{
    private const double Apix = 3.0;

    private static SimulateResult Simulate(string dir, long count, double snr, int seed) =>
        SimulateJob.Run(TestPaths.RealData("volumes/hand-vol.mrc"),
            new SimulateOptions(dir, count, VoxelSize: Apix, Snr: snr, DefocusMin: 10000, DefocusMax: 30000, Astigmatism: 500, ShiftSigma: 2, Seed: seed),
            Logger.None);

    private static FscCurve RelionReconstruct(string star, string dir, string name)
    {
        string exe = Peers.RequireRelion("relion_reconstruct");
        string output = Path.Combine(dir, name);
        var r = Peers.Run(exe, ["--i", star, "--o", output, "--ctf"], workDir: dir);
        Assert.True(r.ExitCode == 0 && File.Exists(output), r.ToString());
        using var truth = MrcReader.OpenVolume(Path.Combine(dir, SimulateJob.TruthName));
        using var map = MrcReader.OpenVolume(output);
        Assert.Equal(Apix, map.Header.VoxelSizeX!.Value, 3);
        return FourierShellCorrelation.Compute(truth.ReadVolume(), map.ReadVolume(), truth.Width, Apix);
    }

    private static string Describe(FscCurve c) =>
        string.Join(" ", c.Shells.Select(s => s.Correlation.ToString("F3", CultureInfo.InvariantCulture)));

    [Fact]
    public void NoiselessStackReconstructedByRelionMatchesTheTruthBeyondHalfNyquist()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.Path, 1500, double.PositiveInfinity, 11);
        var fsc = RelionReconstruct(sim.StarPath, dir.Path, "relion.mrc");
        // measured: > 0.99 up to shell 30 of 32
        for (int s = 1; s <= 32 / 2; s++)
            Assert.True(fsc.Shells[s].Correlation > 0.9, $"shell {s}: {Describe(fsc)}");
        Assert.True(fsc.ResolutionAt(0.5) < 2.2 * Apix, $"FSC 0.5 at {fsc.ResolutionAt(0.5):F2} Å: {Describe(fsc)}");
    }

    [Fact]
    public void NoisyStackReconstructedByRelionMatchesTheTruthAtLowResolution()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.Path, 3000, 0.1, 12);
        var fsc = RelionReconstruct(sim.StarPath, dir.Path, "relion.mrc");
        for (int s = 1; s <= 8; s++)
            Assert.True(fsc.Shells[s].Correlation > 0.9, $"shell {s}: {Describe(fsc)}");
        Assert.True(fsc.ResolutionAt(0.5) < 12, $"FSC 0.5 at {fsc.ResolutionAt(0.5):F2} Å: {Describe(fsc)}");
    }

    [Fact]
    public void NegatedOriginsOrFlippedCtfBreakTheReconstruction()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.Path, 1000, double.PositiveInfinity, 13);
        var good = RelionReconstruct(sim.StarPath, dir.Path, "good.mrc");

        var doc = StarDocument.Read(sim.StarPath);
        var rows = doc.Get("particles").RequireLoop();
        var negated = Edit(doc, rows, t =>
        {
            foreach (string label in new[] { "rlnOriginXAngst", "rlnOriginYAngst" })
            {
                int c = t.RequireColumn(label);
                for (int r = 0; r < t.RowCount; r++) t.SetDouble(r, c, -t.GetDouble(r, c));
            }
        });
        negated.Write(dir.File("negated.star"));
        var shifted = RelionReconstruct(dir.File("negated.star"), dir.Path, "negated.mrc");

        // a 180-degree phase shift negates RELION's CTF: the data now disagree in sign at every frequency
        var flipped = Edit(doc, rows, t =>
        {
            int c = t.RequireColumn("rlnPhaseShift");
            for (int r = 0; r < t.RowCount; r++) t.SetDouble(r, c, 180);
        });
        flipped.Write(dir.File("flipped.star"));
        var ctf = RelionReconstruct(dir.File("flipped.star"), dir.Path, "flipped.mrc");

        // shifts of ~2 px matter from about shell 5 on; the flipped CTF anti-correlates everywhere
        Assert.True(shifted.Shells[12].Correlation < good.Shells[12].Correlation - 0.3, $"negated origins: {Describe(shifted)}");
        Assert.True(ctf.Shells[4].Correlation < 0, $"flipped CTF: {Describe(ctf)}");
    }

    private static StarDocument Edit(StarDocument doc, StarTable rows, Action<StarTable> edit)
    {
        var copy = new StarDocument(doc.Version);
        foreach (var b in doc.Blocks)
        {
            if (b.Loop != rows) { copy.Add(b.Clone()); continue; }
            var t = rows.Clone();
            edit(t);
            copy.AddBlock(b.Name, t);
        }
        return copy;
    }

    [Fact]
    public void SimulatedStackIsValidMrcAndItsStarFileRoundTrips()
    {
        using var dir = new TempDir();
        var sim = Simulate(dir.Path, 50, 0.5, 14);
        string py = Peers.RequireMrcfile();
        foreach (string f in new[] { sim.StackPath, Path.Combine(dir.Path, SimulateJob.TruthName) })
        {
            var r = Peers.Run(py, ["-c", "import mrcfile,sys; sys.exit(0 if mrcfile.validate(sys.argv[1]) else 1)", f]);
            Assert.True(r.ExitCode == 0, r.ToString());
        }
        var table = ParticleTable.Read(sim.StarPath);
        Assert.Equal(50, table.Count);
        Assert.Equal(Apix, table[0].PixelSizeAngst);
        // the STAR file holds exactly the simulator's draws
        var options = new SimulateOptions(dir.Path, 50, VoxelSize: Apix, Snr: 0.5, DefocusMin: 10000, DefocusMax: 30000, Astigmatism: 500, ShiftSigma: 2, Seed: 14);
        for (int i = 0; i < 50; i += 7)
        {
            var draw = ParticleDraw.Create(options, Apix, i);
            Assert.Equal(i, table[i].Image.Index);
            Assert.Equal(draw.Pose.Angles.RotDeg, table[i].Pose!.Value.Angles.RotDeg, 4);
            Assert.Equal(draw.Pose.OriginYAngst, table[i].Pose!.Value.OriginYAngst, 4);
            Assert.Equal(draw.Ctf.DefocusV, table[i].Ctf!.Value.DefocusV, 2);
        }
        table.WriteStar(dir.File("again.star"));
        Assert.Equal(File.ReadAllText(sim.StarPath), File.ReadAllText(dir.File("again.star")));
    }
}
