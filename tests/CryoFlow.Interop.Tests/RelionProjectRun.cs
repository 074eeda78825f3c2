using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;
using CryoFlow.TestSupport;

namespace CryoFlow.Interop.Tests;

/// <summary>One particle to project: RELION pose (origin in Å) and CTF.</summary>
public sealed record ProjectedParticle(string Name, Pose Pose, CtfParameters Ctf)
{
    public override string ToString() => Name;
}

/// <summary>
/// Runs <c>relion_project</c> (RELION 3.1) on a volume and a particle STAR file written by CryoFlow, and
/// reads back its noiseless projections. What RELION 3.1.3 needs, found by running it: the STAR file is
/// loaded with ObservationModel::loadSafely, so it must be a 3.1 file with data_optics (voltage, Cs,
/// amplitude contrast) and data_particles with rlnAngleRot/Tilt/Psi, rlnOriginXAngst/YAngst (divided by
/// --angpix to pixels) and, for --ctf, rlnDefocusU/V/Angle; rlnPhaseShift, rlnCtfBfactor and
/// rlnCtfScalefactor are honoured when present. rlnImageName is not read (it may name a file that does
/// not exist, or be absent); RELION writes <c>{root}.mrcs</c> with one image per row in the STAR file's
/// order and <c>{root}.star</c> with rlnImageName pointing into it.
/// </summary>
public static class RelionProjectRun
{
    /// <summary>The voltage, Cs and amplitude contrast shared by every particle (one optics group).</summary>
    public const double VoltageKv = 300, CsMm = 2.7, AmplitudeContrast = 0.1;

    /// <summary>
    /// Writes <paramref name="volume"/> (D^3, [z][y][x]) to <c>vol.mrc</c> with voxel size
    /// <paramref name="pixelSize"/>, the particles to <c>parts.star</c>, runs relion_project in
    /// <paramref name="dir"/> and returns its images (D*D floats each, [y][x]) and the particle table it wrote.
    /// </summary>
    public static (float[][] Images, ParticleTable Written) Project(
        TempDir dir, float[] volume, int boxSize, double pixelSize, IReadOnlyList<ProjectedParticle> particles, bool ctf)
    {
        string exe = Peers.RequireRelion("relion_project");
        string vol = dir.File("vol.mrc");
        if (!File.Exists(vol)) MrcWriter.WriteVolume(vol, volume, boxSize, boxSize, boxSize, new MrcWriterOptions { VoxelSize = pixelSize });
        string star = dir.File("parts.star");
        if (!File.Exists(star)) ParticleStarWriter.Write(star, Table(particles, boxSize, pixelSize));

        string root = ctf ? "proj_ctf" : "proj";
        var args = new List<string> { "--i", vol, "--ang", star, "--angpix", Format(pixelSize), "--o", root };
        if (ctf) args.Add("--ctf");
        var r = Peers.Run(exe, args, dir.Path, timeoutMs: 120_000);
        Assert.True(r.ExitCode == 0, "relion_project failed: " + r);

        var written = ParticleTable.Read(dir.File(root + ".star"));
        Assert.Equal(particles.Count, written.Count);
        using var stack = MrcReader.OpenStack(dir.File(root + ".mrcs"));
        Assert.Equal((boxSize, boxSize, (long)particles.Count), (stack.Width, stack.Height, stack.ImageCount));
        var images = new float[particles.Count][];
        for (int i = 0; i < particles.Count; i++) images[i] = stack.ReadImage(i);
        return (images, written);
    }

    /// <summary>The particles as a RELION 3.1 table; rlnImageName names a stack that is never read.</summary>
    public static ParticleTable Table(IReadOnlyList<ProjectedParticle> particles, int boxSize, double pixelSize)
    {
        var b = new ParticleTableBuilder();
        int g = b.AddOpticsGroup(new OpticsSettings(pixelSize, boxSize, VoltageKv, CsMm, AmplitudeContrast));
        for (int i = 0; i < particles.Count; i++)
            b.Add(g, new ParticleRef("unread.mrcs", i), particles[i].Ctf, particles[i].Pose);
        return b.Build();
    }

    private static string Format(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
