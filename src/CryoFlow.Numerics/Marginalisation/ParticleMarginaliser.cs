using System.Buffers;
using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Likelihood;
using CryoFlow.Numerics.Projection;

namespace CryoFlow.Numerics.Marginalisation;

/// <summary>
/// One particle's marginal log-likelihood over a pose subset, its posterior summaries and its gradient with respect to
/// the slices (DESIGN.md 3, 3.1; REFERENCE.md 3.2-3.5). Per in-plane angle psi it rotates the prepared image
/// (<see cref="ImageRotator.Rotate"/>) and evaluates the CTF at the same rotated frequencies
/// (<c>CtfEvaluator.EvaluateDisc(..., psi)</c>, scale divided by σ), then runs <see cref="MarginalLikelihoodKernel"/>
/// against the shared slices.
/// <para><b>What LL is.</b> For the σ-normalised image x (D² pixels; unit white noise under the model) and the model
/// image m_pose of the pose (CTF/σ times the slice, shifted by the origin, restricted to |k| &lt; r*),
/// LL = log Σ_pose w(pose) exp(-½ Σ_pixels (x - m_pose)²)
///    = logsumexp_pose [lw_d + lw_p + lw_t - ½ (E_total + Σ_disc m_k C²|S|² - 2 Re Σ_disc m_k conj(Φ A_psi) C S)],
/// with E_total = Σ x² (<see cref="PreparedParticle.TotalEnergy"/>); the in-band sums run in the slice frame over
/// the rotated image A_psi and CTF C = CTF(R2(psi) k)/σ. (They equal the pixel-grid sums up to interpolation and
/// discretisation: ~0.1% of the in-band signal energy Σ m C²|S|² for a particle well inside its box, up to ~1% when
/// CTF-delocalised signal reaches the box edge, where rotating and periodically shifting an image do not commute;
/// see the tests.) This is the reference code's -NLL
/// (REFERENCE.md 3.5 with σ = σ₀ = 1): the out-of-band power ½ (E_total - E_disc) is included, so LL is the
/// likelihood of the whole image and comparable across cutoffs r*. Left out, because they depend on neither the volume
/// nor the pose: -(D²/2) log 2π (the same for every particle of a box size; the reference drops it too) and
/// -D² log σ (the Jacobian from raw pixels to x). With them, LL is log p(raw pixels | V). The pose weights are used as
/// given: <see cref="PoseGrid.FromQuadrature"/> makes them a probability measure (uniform over directions and psi,
/// Gaussian over shifts), so there LL is a proper marginal log-likelihood.</para>
/// <para><b>In-band image energy.</b> The kernel's per-angle ‖A_psi‖² comes from interpolated rotations, which do
/// not preserve the norm exactly, and would bias the in-plane posterior towards angles where interpolation loses
/// power. The marginaliser replaces it by the exact in-band energy E_disc of the unrotated transform
/// (<see cref="PreparedParticle.EnergyWithin"/>) by adding ½ (‖A_psi‖² - E_disc) to each in-plane log-weight it hands
/// the kernel; the marginals it reports are then those of LL above.</para>
/// <para><b>Gradient.</b> With a <see cref="SliceGradient"/>, G = dLL/dRe S + i dLL/dIm S for every subset direction is
/// added into the row of its slice-set direction (rows whose posterior mass is below
/// <see cref="MarginalLikelihoodKernel.GradientFloor"/> are exactly zero and skipped); <see cref="GradientAssembler"/>
/// maps the sums to the real-space density.</para>
/// <para>One marginaliser per worker thread: it owns the kernel workspace and buffers sized by its
/// <see cref="KernelCapacity"/>; <see cref="Evaluate(PreparedParticle, SliceSet, in PoseSubset, SliceGradient?, in MarginalOutputs)"/>
/// does not allocate.</para>
/// </summary>
public sealed class ParticleMarginaliser : IDisposable
{
    private readonly ImageRotator _rotator;
    private readonly KernelWorkspace _workspace;
    private readonly float[] _imageRe, _imageIm, _ctf, _rotated, _sliceRe, _sliceIm, _gradRe, _gradIm;
    private readonly double[] _postD, _postP, _postT, _lwP, _norms;
    private bool _disposed;

    /// <param name="rotator">the rotator the particles were prepared for (shared; thread-safe)</param>
    /// <param name="capacity">largest points, directions, in-plane angles, shifts and box size to serve</param>
    public ParticleMarginaliser(ImageRotator rotator, KernelCapacity capacity)
    {
        ArgumentNullException.ThrowIfNull(rotator);
        _rotator = rotator;
        _workspace = new KernelWorkspace(capacity);
        Capacity = capacity;
        int nk = capacity.Points, nd = capacity.Directions, np = capacity.InPlaneAngles, nt = capacity.Shifts;
        _imageRe = F(checked(np * nk));
        _imageIm = F(np * nk);
        _ctf = F(np * nk);
        _rotated = F(checked(2 * nk));
        _sliceRe = F(checked(nd * nk));
        _sliceIm = F(nd * nk);
        _gradRe = F(nd * nk);
        _gradIm = F(nd * nk);
        _postD = D(nd);
        _postP = D(np);
        _postT = D(nt);
        _lwP = D(np);
        _norms = D(np);
    }

    /// <summary>A capacity that serves a slice set with <paramref name="inPlaneAngles"/> x <paramref name="shifts"/> poses per direction.</summary>
    public static KernelCapacity CapacityFor(SliceSet slices, int inPlaneAngles, int shifts)
    {
        ArgumentNullException.ThrowIfNull(slices);
        return new KernelCapacity(slices.Points, slices.Count, inPlaneAngles, shifts, slices.Disc.BoxSize);
    }

    public KernelCapacity Capacity { get; }

    /// <summary>Run the kernel's scalar paths (for comparisons).</summary>
    public bool ForceScalar
    {
        get => _workspace.ForceScalar;
        set => _workspace.ForceScalar = value;
    }

    /// <summary>Marginalises one particle without array outputs.</summary>
    public MarginalResult Evaluate(PreparedParticle particle, SliceSet slices, in PoseSubset poses, SliceGradient? gradient = null) =>
        Evaluate(particle, slices, poses, gradient, default);

    /// <summary>Marginalises one particle.</summary>
    /// <param name="particle">prepared for this marginaliser's rotator</param>
    /// <param name="slices">the minibatch's slices (their disc sets r*)</param>
    /// <param name="poses">the poses to sum over</param>
    /// <param name="gradient">when given, G for this particle is added into it and the particle counted (unless LL = -inf,
    /// when no pose has a finite weight); null for the likelihood-only path</param>
    /// <param name="outputs">optional posterior marginals</param>
    public MarginalResult Evaluate(PreparedParticle particle, SliceSet slices, in PoseSubset poses, SliceGradient? gradient, in MarginalOutputs outputs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(particle);
        ArgumentNullException.ThrowIfNull(slices);
        var disc = slices.Disc;
        int nk = disc.Count, nd = poses.Directions.Length, np = poses.InPlaneAngles.Length, nt = poses.ShiftX.Length;
        Validate(particle, slices, poses, gradient, outputs, nk, nd, np, nt);

        // rotated images and CTFs per in-plane angle; in-plane log-weights carry the exact in-band energy
        double eDisc = particle.EnergyWithin(disc.Radius);
        var m = disc.Multiplicity;
        var ctfEvaluator = particle.NormalisedCtf;
        var rotated = _rotated.AsSpan(0, 2 * nk);
        var lwP = _lwP.AsSpan(0, np);
        for (int p = 0; p < np; p++)
        {
            double psi = poses.InPlaneAngles[p];
            _rotator.Rotate(particle.Image, disc, psi, rotated);
            var re = _imageRe.AsSpan(p * nk, nk);
            var im = _imageIm.AsSpan(p * nk, nk);
            double norm = 0;
            for (int k = 0; k < nk; k++)
            {
                float a = rotated[2 * k], b = rotated[2 * k + 1];
                re[k] = a;
                im[k] = b;
                norm += m[k] * ((double)a * a + (double)b * b);
            }
            _norms[p] = norm;
            ctfEvaluator.EvaluateDisc(disc, particle.PixelSize, _ctf.AsSpan(p * nk, nk), psi);
            double lw = poses.InPlaneLogWeights[p];
            lwP[p] = double.IsNegativeInfinity(lw) ? lw : lw + 0.5 * (norm - eDisc);
        }

        // the subset's slices: the slice set itself when the subset is all of it in order
        ReadOnlySpan<float> sRe, sIm;
        if (IsIdentity(poses.Directions, slices.Count))
        {
            sRe = slices.Re;
            sIm = slices.Im;
        }
        else
        {
            for (int i = 0; i < nd; i++)
            {
                int d = poses.Directions[i];
                slices.Re.Slice(d * nk, nk).CopyTo(_sliceRe.AsSpan(i * nk, nk));
                slices.Im.Slice(d * nk, nk).CopyTo(_sliceIm.AsSpan(i * nk, nk));
            }
            sRe = _sliceRe.AsSpan(0, nd * nk);
            sIm = _sliceIm.AsSpan(0, nd * nk);
        }

        var input = new KernelInputs
        {
            BoxSize = disc.BoxSize,
            Kx = disc.Kx,
            Ky = disc.Ky,
            Multiplicity = m,
            SliceRe = sRe,
            SliceIm = sIm,
            ImageRe = _imageRe.AsSpan(0, np * nk),
            ImageIm = _imageIm.AsSpan(0, np * nk),
            Ctf = _ctf.AsSpan(0, np * nk),
            ShiftX = poses.ShiftX,
            ShiftY = poses.ShiftY,
            LogWeightDirection = poses.DirectionLogWeights,
            LogWeightInPlane = lwP,
            LogWeightShift = poses.ShiftLogWeights,
        };
        var postD = _postD.AsSpan(0, nd);
        var postP = _postP.AsSpan(0, np);
        var postT = _postT.AsSpan(0, nt);
        var kernelOutputs = new KernelOutputs
        {
            PosteriorDirection = postD,
            PosteriorInPlane = postP,
            PosteriorShift = postT,
            GradientRe = gradient is null ? default : _gradRe.AsSpan(0, nd * nk),
            GradientIm = gradient is null ? default : _gradIm.AsSpan(0, nd * nk),
        };
        var r = MarginalLikelihoodKernel.Evaluate(input, _workspace, kernelOutputs);

        double ll = r.LogLikelihood - 0.5 * (particle.TotalEnergy - eDisc);
        double error = r.ExpectedSquaredError;
        for (int p = 0; p < np; p++) error += postP[p] * (eDisc - _norms[p]);
        error = Math.Max(0, error);

        if (!outputs.PosteriorDirection.IsEmpty) postD.CopyTo(outputs.PosteriorDirection);
        if (!outputs.PosteriorInPlane.IsEmpty) postP.CopyTo(outputs.PosteriorInPlane);
        if (!outputs.PosteriorShift.IsEmpty) postT.CopyTo(outputs.PosteriorShift);

        if (gradient is not null && !double.IsNegativeInfinity(ll))
        {
            for (int i = 0; i < nd; i++)
            {
                // every γ of this direction is below the floor: the kernel's row is exactly zero
                if (postD[i] < MarginalLikelihoodKernel.GradientFloor) continue;
                gradient.AddRow(poses.Directions[i], _gradRe.AsSpan(i * nk, nk), _gradIm.AsSpan(i * nk, nk));
            }
            gradient.CountParticle(ll);
        }

        if (r.Best == PoseIndex.None)
            return new MarginalResult(ll, r.Best, -1, default, 0, 0, r.EvaluatedPoses);
        int bestDirection = poses.Directions[r.Best.Direction];
        var pose = PoseConventions.ToRelionPose(slices.Angles[bestDirection], poses.InPlaneAngles[r.Best.InPlane],
            poses.ShiftX[r.Best.Shift], poses.ShiftY[r.Best.Shift], particle.PixelSize);
        return new MarginalResult(ll, r.Best, bestDirection, pose, r.BestProbability, error, r.EvaluatedPoses);
    }

    /// <summary>Returns the buffers to the pools.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _workspace.Dispose();
        foreach (var a in new[] { _imageRe, _imageIm, _ctf, _rotated, _sliceRe, _sliceIm, _gradRe, _gradIm }) ArrayPool<float>.Shared.Return(a);
        foreach (var a in new[] { _postD, _postP, _postT, _lwP, _norms }) ArrayPool<double>.Shared.Return(a);
    }

    private void Validate(PreparedParticle particle, SliceSet slices, in PoseSubset poses, SliceGradient? gradient, in MarginalOutputs outputs,
        int nk, int nd, int np, int nt)
    {
        var disc = slices.Disc;
        if (disc.BoxSize != _rotator.BoxSize || particle.BoxSize != _rotator.BoxSize)
            throw new ArgumentException($"box sizes differ: slices D = {disc.BoxSize}, particle D = {particle.BoxSize}, rotator D = {_rotator.BoxSize}");
        if (particle.Image.Oversampling != _rotator.Options.Oversampling)
            throw new ArgumentException($"particle was prepared with padding {particle.Image.Oversampling}, the rotator pads {_rotator.Options.Oversampling}", nameof(particle));
        if (nk > Capacity.Points || nd > Capacity.Directions || np > Capacity.InPlaneAngles || nt > Capacity.Shifts || disc.BoxSize > Capacity.BoxSize)
            throw new ArgumentException($"problem (points {nk}, directions {nd}, in-plane {np}, shifts {nt}, D {disc.BoxSize}) exceeds the marginaliser's capacity {Capacity}");
        if (poses.DirectionLogWeights.Length != nd) throw new ArgumentException($"{poses.DirectionLogWeights.Length} direction log-weights for {nd} directions", nameof(poses));
        if (poses.InPlaneLogWeights.Length != np) throw new ArgumentException($"{poses.InPlaneLogWeights.Length} in-plane log-weights for {np} angles", nameof(poses));
        if (poses.ShiftY.Length != nt || poses.ShiftLogWeights.Length != nt)
            throw new ArgumentException($"shift arrays differ in length: x {nt}, y {poses.ShiftY.Length}, log-weights {poses.ShiftLogWeights.Length}", nameof(poses));
        foreach (int d in poses.Directions)
            if ((uint)d >= (uint)slices.Count) throw new ArgumentOutOfRangeException(nameof(poses), d, $"direction index outside the slice set of {slices.Count}");
        if (gradient is not null && (gradient.Directions != slices.Count || gradient.Points != nk))
            throw new ArgumentException($"gradient buffer is {gradient.Directions} x {gradient.Points}, slice set {slices.Count} x {nk}", nameof(gradient));
        if (!outputs.PosteriorDirection.IsEmpty && outputs.PosteriorDirection.Length != nd) throw new ArgumentException($"direction marginal needs {nd} values", nameof(outputs));
        if (!outputs.PosteriorInPlane.IsEmpty && outputs.PosteriorInPlane.Length != np) throw new ArgumentException($"in-plane marginal needs {np} values", nameof(outputs));
        if (!outputs.PosteriorShift.IsEmpty && outputs.PosteriorShift.Length != nt) throw new ArgumentException($"shift marginal needs {nt} values", nameof(outputs));
    }

    private static bool IsIdentity(ReadOnlySpan<int> directions, int count)
    {
        if (directions.Length != count) return false;
        for (int i = 0; i < directions.Length; i++)
            if (directions[i] != i) return false;
        return true;
    }

    private static float[] F(int length) => ArrayPool<float>.Shared.Rent(Math.Max(length, 1));

    private static double[] D(int length) => ArrayPool<double>.Shared.Rent(Math.Max(length, 1));
}
