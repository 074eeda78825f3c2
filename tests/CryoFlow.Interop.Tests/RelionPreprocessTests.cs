using System.Globalization;
using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;
using CryoFlow.Pipeline.Simulation;
using CryoFlow.TestSupport;
using Serilog.Core;

namespace CryoFlow.Interop.Tests;

/// <summary>
/// `cryoflow extract` against `relion_preprocess --extract` on the same simulated micrographs, picks and CTF: the
/// same particles (pixel for pixel, after the same normalisation and down-sampling), the same coordinates, CTF,
/// micrograph names and optics in the STAR files, and each reads the other's STAR file.
/// </summary>
public class RelionPreprocessTests
{
    /// <summary>3 micrographs of 1024 px, 20 particles each (box 64, 3 Å/px), astigmatic CTF, noise.</summary>
    private static SimulateMicrographsResult Session(string dir)
    {
        var (volume, box, voxel) = SimulateJob.LoadVolume(TestPaths.RealData("volumes/hand-vol.mrc"), 3.0, Logger.None);
        var particles = new SimulateOptions(dir, 1, Snr: 0.3, DefocusMin: 10000, DefocusMax: 30000, Astigmatism: 800, ShiftSigma: 1, Seed: 17, Threads: 2);
        return SimulateMicrographsJob.Run(volume, box, voxel, new SimulateMicrographsOptions(particles, 3, 1024, 20), Logger.None);
    }

    private static Peers.Result Cryoflow(string workDir, params string[] args) =>
        Peers.Run(Path.Combine(AppContext.BaseDirectory, "cryoflow"), args, workDir, timeoutMs: 300_000);

    [Theory]
    [InlineData(64, 24)]
    [InlineData(32, 12)]
    public void ParticlesAndStarFilesMatchRelionPreprocess(int outBox, int bgRadius)
    {
        string relion = Peers.RequireRelion("relion_preprocess");
        using var dir = new TempDir();
        var sim = Session(dir.Path);
        // RELION looks for <coord_dir>/<micrograph path without extension><suffix>
        Directory.CreateDirectory(dir.File("relion_picks/Micrographs"));
        foreach (string f in Directory.GetFiles(sim.PicksDirectory)) File.Copy(f, dir.File("relion_picks/Micrographs/" + Path.GetFileName(f)));
        string[] scale = outBox == 64 ? [] : ["--scale", outBox.ToString(CultureInfo.InvariantCulture)];
        var r = Peers.Run(relion, ["--i", SimulateMicrographsJob.CtfStarName, "--coord_dir", "relion_picks/", "--coord_suffix", SimulateMicrographsJob.PickSuffix,
            "--part_star", "Relion/particles.star", "--part_dir", "Relion/", "--extract", "--extract_size", "64", .. scale,
            "--norm", "--bg_radius", bgRadius.ToString(CultureInfo.InvariantCulture), "--invert_contrast"], dir.Path);
        Assert.True(r.ExitCode == 0 && File.Exists(dir.File("Relion/particles.star")), r.ToString());

        string[] bin = outBox == 64 ? [] : ["--out-box", outBox.ToString(CultureInfo.InvariantCulture)];
        var c = Cryoflow(dir.Path, ["extract", "--micrographs", SimulateMicrographsJob.CtfStarName, "--coords", "picks", "--ctf", SimulateMicrographsJob.CtfStarName,
            "--box", "64", .. bin, "--bg-radius", bgRadius.ToString(CultureInfo.InvariantCulture), "--threads", "2", "--out", "CryoFlow"]);
        Assert.True(c.ExitCode == 0, c.ToString());

        var rel = ParticleTable.Read(dir.File("Relion/particles.star"), new ParticleReadOptions { WorkingDirectory = dir.Path });
        var cf = ParticleTable.Read(dir.File("CryoFlow/particles.star"), new ParticleReadOptions { WorkingDirectory = dir.Path });
        Assert.Equal(60, rel.Count);
        Assert.Equal(60, cf.Count);
        var relRows = rel.ParticleBlock.Loop!;
        var cfRows = cf.ParticleBlock.Loop!;
        double worst = 1;
        using var relImages = new ParticleImageReader(rel);
        using var cfImages = new ParticleImageReader(cf);
        var a = new float[outBox * outBox];
        var b = new float[outBox * outBox];
        for (int i = 0; i < 60; i++)
        {
            // same particle, same place, same micrograph, same CTF
            foreach (string label in new[] { RelionLabels.CoordinateX, RelionLabels.CoordinateY })
                Assert.Equal(relRows.GetDouble(i, label), cfRows.GetDouble(i, label));
            Assert.Equal(relRows.GetString(i, RelionLabels.MicrographName), cfRows.GetString(i, RelionLabels.MicrographName));
            var (x, y) = (rel[i].Ctf!.Value, cf[i].Ctf!.Value);
            Assert.Equal(x.DefocusU, y.DefocusU, 1e-3);
            Assert.Equal(x.DefocusV, y.DefocusV, 1e-3);
            Assert.Equal(x.DefocusAngleDeg, y.DefocusAngleDeg, 1e-4);
            Assert.Equal((x.VoltageKv, x.SphericalAberrationMm, x.AmplitudeContrast, x.PhaseShiftDeg), (y.VoltageKv, y.SphericalAberrationMm, y.AmplitudeContrast, y.PhaseShiftDeg));
            Assert.Equal(rel[i].PixelSizeAngst!.Value, cf[i].PixelSizeAngst!.Value, 6);
            Assert.Equal(rel[i].Optics.ImageSize, cf[i].Optics.ImageSize);

            relImages.Read(i, a);
            cfImages.Read(i, b);
            worst = Math.Min(worst, ImageStats.Correlation(a, b));
        }
        // measured: 1 - 1e-10 (differences of 1e-6 to 1e-4 in pixels of unit background deviation)
        Assert.True(worst > 0.999, $"lowest per-particle correlation {worst:F6}");

        // RELION reads CryoFlow's STAR file and every image it names
        string stack = Peers.RequireRelion("relion_stack_create");
        var s = Peers.Run(stack, ["--i", "CryoFlow/particles.star", "--o", "relion_reads_cryoflow"], dir.Path);
        Assert.True(s.ExitCode == 0, s.ToString());
        using var all = MrcReader.OpenStack(dir.File("relion_reads_cryoflow.mrcs"));
        Assert.Equal(60, all.ImageCount);
        Assert.Equal(all.ReadImage(59), b);
    }
}
