using CryoFlow.Formats.Mrc;
using CryoFlow.Formats.Particles;
using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Projection;
using CryoFlow.Numerics.Simulation;
using CryoFlow.TestSupport;

namespace CryoFlow.Interop.Tests;

/// <summary>
/// CryoFlow's forward model (<see cref="ParticleRenderer"/>: Fourier slice, RELION CTF, origin shift) against
/// <c>relion_project</c> (RELION 3.1.3, padding 2, trilinear) on the same volume, poses and CTFs.
/// <para>
/// What the residual is. No scale factor: the least-squares scale between the two is 0.995-1.0015. Up to
/// |k| &lt;= D/2 - 1 the two agree to about 1e-4 when CryoFlow interpolates as RELION does (padding 2,
/// trilinear, grid-corrected); all of the remaining difference sits in the last pixel below Nyquist, for
/// two reasons, both RELION's: (1) RELION keeps its padded 3D transform only inside radius D/2
/// (Projector::computeFourierTransformMap), so a trilinear sample within sqrt(3)/2 px of Nyquist mixes in
/// zeros: on oblique views RELION's coefficients at |k| ~ 31.8 are 40-60% of CryoFlow's, which is most of
/// the 3-4% full-image error of those views; (2) RELION's slice keeps |k| &lt;= D/2, so it has the two
/// self-conjugate points (D/2, 0) and (0, D/2) that CryoFlow's |k| &lt; D/2 disc leaves out. With its
/// default Lanczos-3 kernel CryoFlow differs from RELION by about 1% more, which is RELION's interpolation
/// error: on the tilt-0 view, whose exact projection is the sum of voxels along z, CryoFlow's default is
/// 0.86% from the exact (band-limited) projection and relion_project 1.55%.
/// </para>
/// </summary>
public class RelionProjectTests(RelionProjectFixture f) : IClassFixture<RelionProjectFixture>
{
    private const int D = RelionProjectFixture.D;

    /// <summary>Band for the like-for-like comparison: RELION's 3D transform is zero beyond D/2 (see the class).</summary>
    private const double Band = D / 2 - 1;

    [Fact]
    public void CtfModulatedProjectionEqualsRelionProjectWithCtf()
    {
        // Measured (default renderer, Lanczos-3): r = 0.99988 0.99992 0.99995 0.99988 0.99993 0.99906,
        // relative error = 1.53% 1.29% 1.02% 1.52% 1.18% 4.36% (the last: an oblique view with much power
        // near Nyquist; see the class remarks).
        for (int i = 0; i < f.Particles.Count; i++)
        {
            var p = f.Particles[i];
            var mine = f.Render(f.Renderer, p.Pose, p.Ctf);
            AssertMatches(p, mine, f.RelionWithCtf[i], minCorrelation: 0.999, maxRelativeError: 0.05);
        }
    }

    [Fact]
    public void ProjectionWithoutCtfEqualsRelionProject()
    {
        // Measured: r = 0.99992 0.99995 0.99995 0.99926 0.99993 0.99939,
        // relative error = 1.29% 1.00% 1.04% 3.85% 1.20% 3.49%.
        for (int i = 0; i < f.Particles.Count; i++)
        {
            var p = f.Particles[i];
            var mine = f.Render(f.Renderer, p.Pose, null);
            AssertMatches(p, mine, f.RelionWithoutCtf[i], minCorrelation: 0.999, maxRelativeError: 0.05);
        }
    }

    [Fact]
    public void WithRelionsInterpolationTheTransformsAgreeToThreePartsInTenThousandBelowNyquist()
    {
        // Padding 2, trilinear, grid-corrected: RELION's projector. Measured relative error for |k| <= D/2 - 1,
        // without CTF: 1.31e-4 4.73e-5 7.14e-5 1.38e-4 1.10e-4 1.46e-4; with CTF: 1.33e-4 4.44e-5 7.01e-5 1.13e-4
        // 1.07e-4 1.37e-4 (single-precision images). Every convention (angles, centre, origin sign, CTF sign,
        // astigmatism direction, wavelength, phase shift, B-factor, scale) is pinned at this level.
        var log = TestContext.Current.TestOutputHelper;
        for (int i = 0; i < f.Particles.Count; i++)
        {
            var p = f.Particles[i];
            double plain = ImageComparison.RelativeErrorBelow(f.Render(f.Trilinear, p.Pose, null), f.RelionWithoutCtf[i], D, Band);
            double ctf = ImageComparison.RelativeErrorBelow(f.Render(f.Trilinear, p.Pose, p.Ctf), f.RelionWithCtf[i], D, Band);
            log?.WriteLine($"{p}: |k| <= {Band}: relative error {plain:E2} without CTF, {ctf:E2} with CTF");
            Assert.True(plain < 3e-4, $"{p}, no CTF: relative error {plain:E2} for |k| <= {Band}");
            Assert.True(ctf < 3e-4, $"{p}, CTF: relative error {ctf:E2} for |k| <= {Band}");
        }
    }

    [Fact]
    public void RelionReadsBackEveryPoseAndCtfValueWritten()
    {
        var echoed = f.RelionWithCtfTable.Particles;
        for (int i = 0; i < f.Particles.Count; i++)
        {
            var (pose, ctf) = (f.Particles[i].Pose, f.Particles[i].Ctf);
            var (rp, rc) = (echoed[i].Pose!.Value, echoed[i].Ctf!.Value);
            double[] mine = [pose.Angles.RotDeg, pose.Angles.TiltDeg, pose.Angles.PsiDeg, pose.OriginXAngst, pose.OriginYAngst,
                ctf.DefocusU, ctf.DefocusV, ctf.DefocusAngleDeg, ctf.VoltageKv, ctf.SphericalAberrationMm, ctf.AmplitudeContrast,
                ctf.PhaseShiftDeg, ctf.BFactor, ctf.Scale];
            double[] theirs = [rp.Angles.RotDeg, rp.Angles.TiltDeg, rp.Angles.PsiDeg, rp.OriginXAngst, rp.OriginYAngst,
                rc.DefocusU, rc.DefocusV, rc.DefocusAngleDeg, rc.VoltageKv, rc.SphericalAberrationMm, rc.AmplitudeContrast,
                rc.PhaseShiftDeg, rc.BFactor, rc.Scale];
            for (int k = 0; k < mine.Length; k++)
                Assert.True(Math.Abs(mine[k] - theirs[k]) <= 1e-6 * Math.Max(1, Math.Abs(mine[k])), $"{f.Particles[i]}: value {k} written {mine[k]}, RELION wrote back {theirs[k]}");
        }
    }

    // The controls: each convention broken on purpose must fail the comparison badly, so the matches
    // above prove the conventions and not merely that projections of one blob look alike.

    [Fact]
    public void TheWrongHandDoesNotMatchRelionExceptLookingDownZ()
    {
        // Measured r (mirrored volume, same poses): 1.000 -0.097 0.185 -0.459 1.000 -0.542. A view along
        // +-z cannot tell the hands apart (the projection sums over z), so those two must still match.
        for (int i = 0; i < f.Particles.Count; i++)
        {
            var p = f.Particles[i];
            double r = ImageComparison.Correlation(f.Render(f.MirroredRenderer, p.Pose, p.Ctf), f.RelionWithCtf[i]);
            if (LooksDownZ(p.Pose)) Assert.True(r > 0.999, $"{p}: a view down z is the same for both hands, r = {r:F3}");
            else Assert.True(r < 0.5, $"{p}: the mirror-image volume correlates {r:F3} with RELION's projection");
        }
    }

    [Fact]
    public void TheTransposedRotationDoesNotMatchRelion()
    {
        // A^T in place of A (angles (-psi, -tilt, -rot)), the usual way to get RELION's convention wrong.
        // Measured r: 0.229 0.478 -0.529 0.359 on the four particles whose matrix is not symmetric.
        int checkedCount = 0;
        for (int i = 0; i < f.Particles.Count; i++)
        {
            var p = f.Particles[i];
            var a = p.Pose.Angles;
            var transposed = new EulerAngles(-a.PsiDeg, -a.TiltDeg, -a.RotDeg);
            if (MaxAbsDifference(a.ToMatrix(), transposed.ToMatrix()) < 0.1) continue; // tilt 180, or tilt 0 with rot + psi = 0
            checkedCount++;
            double r = ImageComparison.Correlation(f.Render(f.Renderer, p.Pose with { Angles = transposed }, p.Ctf), f.RelionWithCtf[i]);
            Assert.True(r < 0.6, $"{p}: the transposed rotation correlates {r:F3} with RELION's projection");
        }
        Assert.Equal(4, checkedCount);
    }

    [Fact]
    public void TheNegatedOriginDoesNotMatchRelion()
    {
        // Particle centre at (box centre + origin) instead of (box centre - origin).
        // Measured r: -0.358 -0.324 0.288 -0.316 -0.186 0.020.
        for (int i = 0; i < f.Particles.Count; i++)
        {
            var p = f.Particles[i];
            var negated = p.Pose with { OriginXAngst = -p.Pose.OriginXAngst, OriginYAngst = -p.Pose.OriginYAngst };
            double r = ImageComparison.Correlation(f.Render(f.Renderer, negated, p.Ctf), f.RelionWithCtf[i]);
            Assert.True(r < 0.5, $"{p}: the negated origin correlates {r:F3} with RELION's projection");
        }
    }

    [Fact]
    public void TheNegatedCtfDoesNotMatchRelion()
    {
        // cryoDRGN's sign (black protein). Measured r: -1.000 (all).
        for (int i = 0; i < f.Particles.Count; i++)
        {
            var p = f.Particles[i];
            double r = ImageComparison.Correlation(f.Render(f.Renderer, p.Pose, p.Ctf with { Scale = -p.Ctf.Scale }), f.RelionWithCtf[i]);
            Assert.True(r < -0.99, $"{p}: the negated CTF correlates {r:F3} with RELION's projection");
        }
    }

    [Fact]
    public void RelionAppliesTheAstigmatismAnglePhaseShiftBFactorAndScaleAsCryoFlowDoes()
    {
        // Correlation hardly sees these (it is dominated by low frequencies and ignores scale), so the
        // like-for-like comparison (trilinear, |k| <= D/2 - 1), where the true CTF gives ~1e-4, measures them.
        // Measured relative error: astigmatism angle mirrored 6.5% 8.6% 16% 31% 5.7% 17%; phase shift (60 deg)
        // dropped 59%; B-factor (80 A^2) dropped 13%; scale (0.8) dropped 25%. So relion_project honours
        // rlnPhaseShift, rlnCtfBfactor and rlnCtfScalefactor, with CryoFlow's meaning.
        var log = TestContext.Current.TestOutputHelper;
        for (int i = 0; i < f.Particles.Count; i++)
        {
            var p = f.Particles[i];
            var wrong = new List<(string What, CtfParameters Ctf)> { ("astigmatism angle mirrored", p.Ctf with { DefocusAngleDeg = -p.Ctf.DefocusAngleDeg }) };
            if (p.Ctf.PhaseShiftDeg != 0) wrong.Add(("phase shift dropped", p.Ctf with { PhaseShiftDeg = 0 }));
            if (p.Ctf.BFactor != 0) wrong.Add(("B-factor dropped", p.Ctf with { BFactor = 0 }));
            if (p.Ctf.Scale != 1) wrong.Add(("scale dropped", p.Ctf with { Scale = 1 }));
            foreach (var (what, ctf) in wrong)
            {
                double e = ImageComparison.RelativeErrorBelow(f.Render(f.Trilinear, p.Pose, ctf), f.RelionWithCtf[i], D, Band);
                log?.WriteLine($"{p}, {what}: relative error {e:E2}");
                Assert.True(e > 0.03, $"{p}, {what}: relative error only {e:E2}");
            }
        }
    }

    private static void AssertMatches(ProjectedParticle p, float[] mine, float[] relion, double minCorrelation, double maxRelativeError)
    {
        double r = ImageComparison.Correlation(mine, relion);
        double e = ImageComparison.RelativeError(mine, relion);
        double s = ImageComparison.Scale(mine, relion);
        TestContext.Current.TestOutputHelper?.WriteLine($"{p}: r = {r:F5}, relative error {e:P2}, least-squares scale {s:F4}");
        Assert.True(r > minCorrelation, $"{p}: correlation {r:F5} with RELION's projection");
        Assert.True(e < maxRelativeError, $"{p}: relative error {e:P2} against RELION's projection");
    }

    private static bool LooksDownZ(Pose pose) => Math.Abs(Math.Cos(pose.Angles.TiltDeg * Math.PI / 180)) > 0.999;

    private static double MaxAbsDifference(Rotation3 a, Rotation3 b) =>
        new[] { a.M00 - b.M00, a.M01 - b.M01, a.M02 - b.M02, a.M10 - b.M10, a.M11 - b.M11, a.M12 - b.M12, a.M20 - b.M20, a.M21 - b.M21, a.M22 - b.M22 }
            .Max(Math.Abs);
}

/// <summary>
/// The hand volume at 2.5 Å/px, six particles, and relion_project's images of them with and without CTF,
/// made once for <see cref="RelionProjectTests"/> (RELION runs on first use, so a missing RELION skips the
/// tests rather than failing the fixture).
/// </summary>
public sealed class RelionProjectFixture : IDisposable
{
    public const int D = 64;
    public const double Apix = 2.5;
    private const double V = RelionProjectRun.VoltageKv, Cs = RelionProjectRun.CsMm, Q = RelionProjectRun.AmplitudeContrast;

    private readonly TempDir _dir = new();
    private readonly Lazy<(float[][] Images, ParticleTable Written)> _withCtf, _withoutCtf;
    private readonly Lazy<ParticleRenderer> _renderer, _trilinear, _mirrored;

    public RelionProjectFixture()
    {
        using (var r = MrcReader.OpenVolume(TestPaths.RealData("volumes/hand-vol.mrc")))
        {
            Assert.Equal((D, D, (long)D), (r.Width, r.Height, r.ImageCount));
            Volume = r.ReadVolume();
        }
        _withCtf = new(() => RelionProjectRun.Project(_dir, Volume, D, Apix, Particles, ctf: true));
        _withoutCtf = new(() => RelionProjectRun.Project(_dir, Volume, D, Apix, Particles, ctf: false));
        _renderer = new(() => new ParticleRenderer(Volume, D, Apix));
        _trilinear = new(() => new ParticleRenderer(Volume, D, Apix, new ProjectorOptions(2, true, InterpolationKernel.Linear)));
        _mirrored = new(() => new ParticleRenderer(Mirror(Volume), D, Apix));
    }

    /// <summary>hand-vol.mrc: 64^3, [z][y][x], chiral, so the wrong hand shows.</summary>
    public float[] Volume { get; }

    /// <summary>
    /// Views: tilt 0 and 180 (down z), tilt 90 (side on), three oblique ones; rot and psi arbitrary. Origins
    /// 1.6-5 px, most of them fractional. CTFs: under-focus 0.8-3 um, astigmatic, angles of either sign;
    /// one with a phase shift, one with a B-factor, one with a scale factor (relion_project honours all three).
    /// </summary>
    public IReadOnlyList<ProjectedParticle> Particles { get; } =
    [
        P("tilt 0", 0, 0, 0, 7.5, -5.0, new(8000, 7500, 15, V, Cs, Q)),
        P("tilt 90", 37, 90, -120, -6.25, 11.3, new(15000, 13500, 72, V, Cs, Q)),
        P("oblique with phase shift", -150, 33, 211, 10.1, 3.3, new(22000, 21000, -40, V, Cs, Q, PhaseShiftDeg: 60)),
        P("oblique with B-factor", 95, 122, 17, -4.4, -8.8, new(30000, 28000, 135, V, Cs, Q, BFactor: 80)),
        P("tilt 180 with scale", 200, 180, 45, 4.0, 9.9, new(12000, 11200, 100, V, Cs, Q, Scale: 0.8)),
        P("oblique", 301, 65, 300, 12.5, -12.5, new(26000, 24500, 170, V, Cs, Q)),
    ];

    /// <summary>relion_project --ctf, in <see cref="Particles"/>' order.</summary>
    public float[][] RelionWithCtf => _withCtf.Value.Images;

    /// <summary>The particle file relion_project --ctf wrote next to its stack.</summary>
    public ParticleTable RelionWithCtfTable => _withCtf.Value.Written;

    /// <summary>relion_project without --ctf.</summary>
    public float[][] RelionWithoutCtf => _withoutCtf.Value.Images;

    /// <summary>CryoFlow's default renderer (Lanczos-3, padding 2, premultiplied).</summary>
    public ParticleRenderer Renderer => _renderer.Value;

    /// <summary>A renderer interpolating as RELION does: padding 2, trilinear, grid-corrected.</summary>
    public ParticleRenderer Trilinear => _trilinear.Value;

    /// <summary>The default renderer on the mirror-image volume.</summary>
    public ParticleRenderer MirroredRenderer => _mirrored.Value;

    public float[] Render(ParticleRenderer renderer, Pose pose, CtfParameters? ctf)
    {
        var image = new float[D * D];
        renderer.Render(pose, ctf, renderer.CreateWorkspace(), image);
        return image;
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>The volume reflected through the plane z = D/2 (the centre voxel): the other hand.</summary>
    private static float[] Mirror(float[] volume)
    {
        var m = new float[volume.Length];
        for (int z = 0; z < D; z++)
            volume.AsSpan((D - z) % D * D * D, D * D).CopyTo(m.AsSpan(z * D * D, D * D));
        return m;
    }

    private static ProjectedParticle P(string name, double rot, double tilt, double psi, double ox, double oy, CtfParameters ctf) =>
        new(name, new Pose(new EulerAngles(rot, tilt, psi), ox, oy), ctf);
}
