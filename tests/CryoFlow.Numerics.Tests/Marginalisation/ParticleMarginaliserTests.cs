using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Marginalisation;
using CryoFlow.Numerics.Projection;
using CryoFlow.Numerics.Simulation;

namespace CryoFlow.Numerics.Tests.Marginalisation;

public class ParticleMarginaliserTests
{
    private const int D = 48;
    private const double Apix = 3;
    private const double Radius = 10;

    /// <summary>
    /// Four particles of a compact smooth volume (blobs within 5 px of the centre, so that neither the particle nor
    /// its CTF fringes reach the box edge, where rotating the image and shifting it periodically stop commuting) with
    /// origins up to 4 px. The scene's projector interpolates with Lanczos-3, as its renderer does.
    /// </summary>
    private sealed class Problem
    {
        public static readonly ProjectorOptions Interpolation = new(2, true, InterpolationKernel.Lanczos3);
        public readonly MarginalisationScene Scene = new(D, Apix, amplitude: 0.3, particles: 4, seed: 11, Interpolation, maxOriginPx: 4, extent: 0.1);
        public readonly FourierDisc Disc = new(D, Radius);

        /// <summary>The scene's renderer (it also made the particles).</summary>
        public ParticleRenderer Renderer => Scene.Renderer;

        /// <summary>
        /// ParticleRenderer.RenderTransform on the r* disc only: slice at the full Euler matrix, CTF at unrotated
        /// frequencies, then the particle displaced by -origin.
        /// </summary>
        public void Render(in Pose pose, in CtfParameters ctf, float[] model, float[] ctfValues, float[] phase)
        {
            Scene.Projector.Project(Scene.Transform, Disc, pose.Angles.ToMatrix(), model);
            ctf.CreateEvaluator().EvaluateDisc(Disc, Apix, ctfValues);
            for (int k = 0; k < Disc.Count; k++) { model[2 * k] *= ctfValues[k]; model[2 * k + 1] *= ctfValues[k]; }
            ShiftPhases.Compute(Disc, [new PixelShift(-pose.OriginXAngst / Apix, -pose.OriginYAngst / Apix)], phase);
            ShiftPhases.Apply(model, phase, model);
        }
    }

    /// <summary>
    /// A pose set around a particle's truth and elsewhere: 7 directions (the true one, five 2-10 degrees from it, one
    /// far away) x 8 in-plane angles around the true psi x 9 shifts around the true slice-frame shift, unequal weights.
    /// </summary>
    private sealed record Poses(EulerAngles[] Directions, double[] LwD, double[] Psi, double[] LwP, (double X, double Y)[] Shifts, double[] LwT)
    {
        public static Poses Around(Pose truth, int seed)
        {
            var rng = new Random(seed);
            var a = truth.Angles;
            var dirs = new List<EulerAngles> { new(a.RotDeg, a.TiltDeg, 0) };
            for (int i = 0; i < 5; i++)
                dirs.Add(new(a.RotDeg + (2 + 8 * rng.NextDouble()) * (rng.Next(2) * 2 - 1), a.TiltDeg + (2 + 8 * rng.NextDouble()) * (rng.Next(2) * 2 - 1), 0));
            dirs.Add(new(a.RotDeg + 90, 180 - a.TiltDeg, 0));
            double psi0 = a.PsiDeg * Math.PI / 180;
            var psi = Enumerable.Range(0, 8).Select(i => psi0 + (i - 3.3) * 0.06).ToArray();
            var (tx, ty) = PoseConventions.OriginToSliceShift(truth.OriginXAngst / Apix, truth.OriginYAngst / Apix, psi0);
            var shifts = new List<(double, double)>();
            for (int iy = -1; iy <= 1; iy++)
                for (int ix = -1; ix <= 1; ix++) shifts.Add((Math.Round(tx) + 0.7 * ix, Math.Round(ty) + 0.7 * iy));
            double[] Lw(int n) => Enumerable.Range(0, n).Select(_ => Math.Log(1.0 / n) + 0.3 * MarginalisationScene.Gaussian(rng)).ToArray();
            return new Poses(dirs.ToArray(), Lw(dirs.Count), psi, Lw(psi.Length), shifts.ToArray(), Lw(shifts.Count));
        }

        public PoseGrid Grid() => new(LwD, Psi, LwP, Shifts, LwT);

        /// <summary>Shifts as the kernel sees them (single precision).</summary>
        public (double X, double Y) Shift(int t) => ((float)Shifts[t].X, (float)Shifts[t].Y);
    }

    private static readonly Lazy<Problem> Shared = new(() => new Problem());

    private sealed record Naive(double LogLikelihood, double[] PostD, double[] PostP, double[] PostT, (int D, int P, int T) Best, double SignalAtBest, double[,,] LogPosterior);

    /// <summary>LSE in double of the per-pose log-posteriors, the marginals and the argmax.</summary>
    private static Naive Summarise(double[,,] logPost, double[,,] signal)
    {
        int nd = logPost.GetLength(0), np = logPost.GetLength(1), nt = logPost.GetLength(2);
        double max = double.NegativeInfinity;
        (int, int, int) best = (-1, -1, -1);
        for (int d = 0; d < nd; d++)
            for (int p = 0; p < np; p++)
                for (int t = 0; t < nt; t++)
                    if (logPost[d, p, t] > max) { max = logPost[d, p, t]; best = (d, p, t); }
        double z = 0;
        foreach (double v in logPost) z += Math.Exp(v - max);
        double[] postD = new double[nd], postP = new double[np], postT = new double[nt];
        for (int d = 0; d < nd; d++)
            for (int p = 0; p < np; p++)
                for (int t = 0; t < nt; t++)
                {
                    double g = Math.Exp(logPost[d, p, t] - max) / z;
                    postD[d] += g;
                    postP[p] += g;
                    postT[t] += g;
                }
        return new Naive(max + Math.Log(z), postD, postP, postT, best, signal[best.Item1, best.Item2, best.Item3], logPost);
    }

    /// <summary>The normalised image, its disc coefficients (D x D unitary transform) and its energies, in double.</summary>
    private static (double[] Data, double ETotal, double EDisc, double Sigma) Data(Problem pb, float[] pixels)
    {
        var x = new float[D * D];
        Assert.Equal(PreparationStatus.Ok, pb.Scene.Preparer.Normalise(pixels, x, out _, out double sigma));
        var half = new float[2 * FourierLayout.HalfPlaneLength(D)];
        FftBackends.Managed.Plan2D(D).Forward(x, half);
        var disc = new float[2 * pb.Disc.Count];
        pb.Disc.Gather(half, disc);
        double eDisc = 0;
        for (int k = 0; k < pb.Disc.Count; k++) eDisc += pb.Disc.Multiplicity[k] * ((double)disc[2 * k] * disc[2 * k] + (double)disc[2 * k + 1] * disc[2 * k + 1]);
        return (disc.Select(v => (double)v).ToArray(), x.Sum(v => (double)v * v), eDisc, sigma);
    }

    /// <summary>
    /// The fully independent loop: for every pose, the particle rendered at the full RELION pose (rot, tilt, psi) with
    /// origin <paramref name="origin"/>(t, psi) px (<see cref="Problem.Render"/>), divided by σ, against the unrotated
    /// transform of the normalised image:
    /// ll = lw - ½ (E_total - E_disc + Σ_disc m |X - model|²).
    /// </summary>
    private static Naive RenderedLoop(Problem pb, PreparedParticle prepared, float[] pixels, CtfParameters ctf, Poses poses,
        Func<double, double, double, (double X, double Y)> origin)
    {
        var (data, eTotal, eDisc, sigma) = Data(pb, pixels);
        Assert.Equal(prepared.NoiseSigma, sigma);
        var m = pb.Disc.Multiplicity;
        var model = new float[2 * pb.Disc.Count];
        var ctfValues = new float[pb.Disc.Count];
        var phase = new float[2 * pb.Disc.Count];
        int nd = poses.Directions.Length, np = poses.Psi.Length, nt = poses.Shifts.Length;
        var logPost = new double[nd, np, nt];
        var signal = new double[nd, np, nt];
        for (int d = 0; d < nd; d++)
            for (int p = 0; p < np; p++)
                for (int t = 0; t < nt; t++)
                {
                    var (tx, ty) = poses.Shift(t);
                    var (ox, oy) = origin(tx, ty, poses.Psi[p]);
                    var dir = poses.Directions[d];
                    var pose = new Pose(dir with { PsiDeg = dir.PsiDeg + poses.Psi[p] * 180 / Math.PI }, ox * Apix, oy * Apix);
                    pb.Render(pose, ctf, model, ctfValues, phase);
                    double e = 0, s = 0;
                    for (int k = 0; k < pb.Disc.Count; k++)
                    {
                        double mr = model[2 * k] / sigma, mi = model[2 * k + 1] / sigma;
                        double rr = data[2 * k] - mr, ri = data[2 * k + 1] - mi;
                        e += m[k] * (rr * rr + ri * ri);
                        s += m[k] * (mr * mr + mi * mi);
                    }
                    logPost[d, p, t] = poses.LwD[d] + poses.LwP[p] + poses.LwT[t] - 0.5 * (eTotal - eDisc + e);
                    signal[d, p, t] = s;
                }
        return Summarise(logPost, signal);
    }

    /// <summary>
    /// The loop on the marginaliser's own ingredients (rotated images, rotated CTFs, slices at the directions) but
    /// with one scalar residual per pose in double and the shift phase exp(+2 pi i k.t/D) from Math.SinCos:
    /// ll = lw - ½ (E_total + Σ_disc m |Φ A_psi - C_psi S_d|² - ‖A_psi‖²_m): the in-band image energy is E_disc's
    /// place in the marginaliser's LL, so the rotated image's own norm is taken out again.
    /// </summary>
    private static Naive RotatedLoop(Problem pb, MarginalisationScene scene, PreparedParticle prepared, SliceSet slices, Poses poses)
    {
        var disc = pb.Disc;
        int nk = disc.Count, nd = poses.Directions.Length, np = poses.Psi.Length, nt = poses.Shifts.Length;
        double eTotal = prepared.TotalEnergy;
        var m = disc.Multiplicity;
        var logPost = new double[nd, np, nt];
        var signal = new double[nd, np, nt];
        var a = new float[2 * nk];
        var c = new float[nk];
        for (int p = 0; p < np; p++)
        {
            scene.Rotator.Rotate(prepared.Image, disc, poses.Psi[p], a);
            (prepared.Ctf with { Scale = prepared.Ctf.Scale / prepared.NoiseSigma }).CreateEvaluator().EvaluateDisc(disc, Apix, c, poses.Psi[p]);
            for (int t = 0; t < nt; t++)
            {
                var (tx, ty) = poses.Shift(t);
                for (int d = 0; d < nd; d++)
                {
                    double e = 0, s = 0, norm = 0;
                    for (int k = 0; k < nk; k++)
                    {
                        norm += m[k] * ((double)a[2 * k] * a[2 * k] + (double)a[2 * k + 1] * a[2 * k + 1]);
                        var (sn, cs) = Math.SinCos(2 * Math.PI * (disc.Kx[k] * tx + disc.Ky[k] * ty) / D);
                        double ar = cs * a[2 * k] - sn * a[2 * k + 1], ai = cs * a[2 * k + 1] + sn * a[2 * k];
                        double mr = c[k] * (double)slices.Re[d * nk + k], mi = c[k] * (double)slices.Im[d * nk + k];
                        e += m[k] * ((ar - mr) * (ar - mr) + (ai - mi) * (ai - mi));
                        s += m[k] * (mr * mr + mi * mi);
                    }
                    logPost[d, p, t] = poses.LwD[d] + poses.LwP[p] + poses.LwT[t] - 0.5 * (eTotal + e - norm);
                    signal[d, p, t] = s;
                }
            }
        }
        return Summarise(logPost, signal);
    }

    /// <summary>The disc-only render equals ParticleRenderer's (the path proven against relion_project) on the disc.</summary>
    private static void AssertRenderMatchesParticleRenderer(Problem pb, Pose pose, CtfParameters ctf)
    {
        var mine = new float[2 * pb.Disc.Count];
        pb.Render(pose, ctf, mine, new float[pb.Disc.Count], new float[2 * pb.Disc.Count]);
        var full = new float[2 * pb.Renderer.Disc.Count];
        pb.Renderer.RenderTransform(pose, ctf, pb.Renderer.CreateWorkspace(), full);
        double num = 0, den = 0;
        for (int i = 0; i < mine.Length; i++) // the r* disc is a prefix of the renderer's |k| < D/2 disc
        {
            num += (mine[i] - full[i]) * (double)(mine[i] - full[i]);
            den += full[i] * (double)full[i];
        }
        Assert.True(Math.Sqrt(num / den) < 1e-6, $"disc render differs from ParticleRenderer by {Math.Sqrt(num / den):E2}");
    }

    private static (MarginalResult Result, double[] PostD, double[] PostP, double[] PostT) Marginalise(Problem pb, PreparedParticle prepared, SliceSet slices, Poses poses)
    {
        var grid = poses.Grid();
        using var marginaliser = new ParticleMarginaliser(pb.Scene.Rotator, ParticleMarginaliser.CapacityFor(slices, poses.Psi.Length, poses.Shifts.Length));
        double[] postD = new double[poses.Directions.Length], postP = new double[poses.Psi.Length], postT = new double[poses.Shifts.Length];
        var r = marginaliser.Evaluate(prepared, slices, grid.AsSubset(), null,
            new MarginalOutputs { PosteriorDirection = postD, PosteriorInPlane = postP, PosteriorShift = postT });
        return (r, postD, postP, postT);
    }

    private static void AssertMarginals(Naive n, double[] postD, double[] postP, double[] postT, double tol)
    {
        for (int i = 0; i < postD.Length; i++) Assert.True(Math.Abs(postD[i] - n.PostD[i]) < tol, $"direction marginal {i}: {postD[i]} vs {n.PostD[i]}");
        for (int i = 0; i < postP.Length; i++) Assert.True(Math.Abs(postP[i] - n.PostP[i]) < tol, $"in-plane marginal {i}: {postP[i]} vs {n.PostP[i]}");
        for (int i = 0; i < postT.Length; i++) Assert.True(Math.Abs(postT[i] - n.PostT[i]) < tol, $"shift marginal {i}: {postT[i]} vs {n.PostT[i]}");
    }

    [Fact]
    public void MarginalLikelihoodMatchesAPerPoseLoopOnTheSameRotatedImages()
    {
        // Same ingredients, independent arithmetic: the kernel's GEMMs in float, the energy substitution, the LL
        // constants and the bookkeeping against a per-pose double loop. Measured |ΔLL| <= 1.6e-6 nats.
        var pb = Shared.Value;
        var log = TestContext.Current.TestOutputHelper;
        int seed = 0;
        foreach (var particle in pb.Scene.Particles)
        {
            var poses = Poses.Around(particle.Pose, seed++);
            var slices = pb.Scene.Slices(pb.Scene.Volume, pb.Disc, poses.Directions);
            var (r, postD, postP, postT) = Marginalise(pb, particle.Prepared, slices, poses);
            var n = RotatedLoop(pb, pb.Scene, particle.Prepared, slices, poses);
            log?.WriteLine($"LL {r.LogLikelihood:F6}, per-pose loop {n.LogLikelihood:F6}, difference {r.LogLikelihood - n.LogLikelihood:E2}; best p {r.BestProbability:F3}");
            Assert.True(Math.Abs(r.LogLikelihood - n.LogLikelihood) < 1e-3, $"LL {r.LogLikelihood} vs {n.LogLikelihood}");
            AssertMarginals(n, postD, postP, postT, 1e-5);
            Assert.Equal(n.Best, (r.Best.Direction, r.Best.InPlane, r.Best.Shift));
            Assert.Equal(r.Best.Direction, r.BestDirection);
            var (tx, ty) = poses.Shift(r.Best.Shift);
            Assert.Equal(PoseConventions.ToRelionPose(poses.Directions[r.Best.Direction], poses.Psi[r.Best.InPlane], tx, ty, Apix), r.BestPose);
        }
    }

    [Fact]
    public void MarginalLikelihoodMatchesANaivePerPoseLoopOverParticlesRenderedAtTheirFullPose()
    {
        // The naive loop shares nothing with the marginaliser's path but the normalised pixels: it never rotates an
        // image, and renders each pose as ParticleRenderer does (checked equal to it) at the full Euler angles
        // (rot, tilt, psi) with the origin -R2(psi) t. What separates the
        // two is the discretisation, not an error of either: the marginaliser sums the likelihood over the rotated
        // grid R2(psi) k (the data interpolated there, Lanczos-3 on a 2x-padded premultiplied transform, ~0.7%
        // relative error on a noisy image) and the naive loop over the integer grid k (the slice interpolated at the
        // rotated plane). Both are quadratures of the same continuous integral; they differ in the cross term
        // Re Σ conj(A) C S, by a small fraction of the signal energy Σ m|C S|² at the pose. Bound: |ΔLL| < 0.5% of
        // the signal energy at the best pose (50-120 nats here). Measured |ΔLL| = 0.042-0.069 nats (0.06-0.13%);
        // marginals differ by <= 0.052 (bound 0.1). Controls, which must cost > 10x the bound: a negated origin
        // 36-82 nats, the slice-frame shift used unrotated as the image-frame shift 6-90 nats. (In a box only twice the
        // particle, with CTF fringes reaching the edge, the two discretisations part by ~1% of the signal, because
        // rotating an image and shifting it periodically do not commute there.)
        var pb = Shared.Value;
        var log = TestContext.Current.TestOutputHelper;
        int seed = 0;
        foreach (var particle in pb.Scene.Particles)
        {
            var poses = Poses.Around(particle.Pose, seed++);
            var slices = pb.Scene.Slices(pb.Scene.Volume, pb.Disc, poses.Directions);
            var (r, postD, postP, postT) = Marginalise(pb, particle.Prepared, slices, poses);
            var naive = RenderedLoop(pb, particle.Prepared, particle.Pixels, particle.Ctf, poses, PoseConventions.SliceShiftToOrigin);
            var negated = RenderedLoop(pb, particle.Prepared, particle.Pixels, particle.Ctf, poses, (x, y, p) =>
            {
                var (ox, oy) = PoseConventions.SliceShiftToOrigin(x, y, p);
                return (-ox, -oy);
            });
            var unrotated = RenderedLoop(pb, particle.Prepared, particle.Pixels, particle.Ctf, poses, (x, y, _) => (-x, -y));
            AssertRenderMatchesParticleRenderer(pb, particle.Pose, particle.Ctf);
            double diff = r.LogLikelihood - naive.LogLikelihood, bound = 0.005 * naive.SignalAtBest;
            log?.WriteLine($"{particle.Pose}: LL {r.LogLikelihood:F3}, naive {naive.LogLikelihood:F3}, difference {diff:F3} " +
                $"(bound {bound:F2}, signal {naive.SignalAtBest:F1}); origin negated {negated.LogLikelihood - naive.LogLikelihood:F1}, " +
                $"shift not rotated {unrotated.LogLikelihood - naive.LogLikelihood:F1}; best p {r.BestProbability:F3}");
            Assert.True(Math.Abs(diff) < bound, $"LL {r.LogLikelihood} vs naive {naive.LogLikelihood}: difference {diff:F3} >= {bound:F3}");
            Assert.True(naive.LogLikelihood - negated.LogLikelihood > 10 * bound, "a negated origin must cost far more than the tolerance");
            Assert.True(naive.LogLikelihood - unrotated.LogLikelihood > 10 * bound, "an unrotated shift must cost far more than the tolerance");
            AssertMarginals(naive, postD, postP, postT, 0.1);
            // near-ties may order differently: the marginaliser's best pose must be (nearly) the naive loop's best
            var b = r.Best;
            double gap = naive.LogPosterior[naive.Best.D, naive.Best.P, naive.Best.T] - naive.LogPosterior[b.Direction, b.InPlane, b.Shift];
            Assert.True(gap < 0.2, $"the marginaliser's best pose is {gap:F3} nats below the naive loop's best");
        }
    }
}
