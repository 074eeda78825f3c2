namespace CryoFlow.Numerics.Likelihood;

/// <summary>
/// The largest problem a <see cref="KernelWorkspace"/> is sized for. A workspace serves every call
/// whose sizes are at most these.
/// </summary>
/// <param name="Points">N_k, Fourier points per particle (half-plane disc |k| &lt; r*)</param>
/// <param name="Directions">N_d, sampled viewing directions (slices)</param>
/// <param name="InPlaneAngles">N_p, sampled in-plane angles</param>
/// <param name="Shifts">N_t, sampled shifts</param>
/// <param name="BoxSize">D, box size in pixels; point coordinates must lie in [-D/2, D/2]</param>
public readonly record struct KernelCapacity(int Points, int Directions, int InPlaneAngles, int Shifts, int BoxSize)
{
    /// <summary>N_p · N_t, the rows of the cross-term GEMM.</summary>
    public long PoseRows => (long)InPlaneAngles * Shifts;
}

/// <summary>Indices of one evaluated pose into the caller's sampled lists.</summary>
/// <param name="Direction">index into the N_d sampled directions</param>
/// <param name="InPlane">index into the N_p sampled in-plane angles</param>
/// <param name="Shift">index into the N_t sampled shifts</param>
public readonly record struct PoseIndex(int Direction, int InPlane, int Shift)
{
    /// <summary>No pose (no poses evaluated, or every pose excluded by a -inf log-weight).</summary>
    public static PoseIndex None => new(-1, -1, -1);
}

/// <summary>Scalar results of one <see cref="MarginalLikelihoodKernel"/> call.</summary>
/// <param name="LogLikelihood">
/// LL = logsumexp over evaluated (d,p,t) of lwD[d] + lwP[p] + lwT[t] + ll(d,p,t), accumulated in
/// double; -inf when no pose has a finite log-weight. Omits the pose-independent constants of a
/// normalised Gaussian (N_k/2 log 2πσ², the out-of-band power).
/// </param>
/// <param name="Best">the pose with the largest posterior (first one on ties)</param>
/// <param name="BestProbability">its normalised posterior probability γ(best)</param>
/// <param name="ExpectedSquaredError">
/// Σ_poses γ(d,p,t) Σ_k m_k |Φ[t,k] A[p,k] − C[p,k] S[d,k]|², in the units of the (σ-normalised)
/// data squared: the numerator of RREMSE.
/// </param>
/// <param name="EvaluatedPoses">N_d · N_p · N_t</param>
/// <param name="GradientRows">
/// (p,t) rows that entered the gradient GEMMs (those with some γ ≥
/// <see cref="MarginalLikelihoodKernel.GradientFloor"/>); 0 on the likelihood-only path
/// </param>
public readonly record struct KernelResult(
    double LogLikelihood, PoseIndex Best, double BestProbability, double ExpectedSquaredError, long EvaluatedPoses, int GradientRows);

/// <summary>
/// One particle's inputs to <see cref="MarginalLikelihoodKernel"/>, all in the slice frame. Sizes come
/// from the spans: N_k = Kx.Length, N_d = LogWeightDirection.Length, N_p = LogWeightInPlane.Length,
/// N_t = LogWeightShift.Length; every other span must have the length stated on it. Complex arrays
/// are split (separate real and imaginary spans), row-major with the point index k fastest.
/// </summary>
public readonly ref struct KernelInputs
{
    /// <summary>σ² defaults to 1 (data already divided by the noise σ).</summary>
    public KernelInputs() => Sigma2 = 1;

    /// <summary>D, box size in pixels (the shift phase is exp(+2πi (kx tx + ky ty) / D)).</summary>
    public required int BoxSize { get; init; }

    /// <summary>[N_k] integer x frequency index of each point, in [-D/2, D/2].</summary>
    public required ReadOnlySpan<int> Kx { get; init; }

    /// <summary>[N_k] integer y frequency index of each point, in [-D/2, D/2].</summary>
    public required ReadOnlySpan<int> Ky { get; init; }

    /// <summary>
    /// [N_k] m_k, the weight of each point in the squared norm: 2 for a half-plane point whose
    /// conjugate partner is not stored, 1 for a self-conjugate point (any value ≥ 0 works; 0 masks a point).
    /// </summary>
    public required ReadOnlySpan<float> Multiplicity { get; init; }

    /// <summary>[N_d · N_k] Re S[d,k], central slice of sampled direction d (no CTF), row d at d·N_k.</summary>
    public required ReadOnlySpan<float> SliceRe { get; init; }

    /// <summary>[N_d · N_k] Im S[d,k].</summary>
    public required ReadOnlySpan<float> SliceIm { get; init; }

    /// <summary>[N_p · N_k] Re A[p,k], particle image rotated into the slice frame by in-plane angle p, divided by σ_noise.</summary>
    public required ReadOnlySpan<float> ImageRe { get; init; }

    /// <summary>[N_p · N_k] Im A[p,k].</summary>
    public required ReadOnlySpan<float> ImageIm { get; init; }

    /// <summary>[N_p · N_k] C[p,k], the real CTF rotated like the image, divided by σ_noise.</summary>
    public required ReadOnlySpan<float> Ctf { get; init; }

    /// <summary>[N_t] shift x component t_x in pixels (the phase re-centres a particle displaced by +t).</summary>
    public required ReadOnlySpan<float> ShiftX { get; init; }

    /// <summary>[N_t] shift y component t_y in pixels.</summary>
    public required ReadOnlySpan<float> ShiftY { get; init; }

    /// <summary>[N_d] lwD: log(quadrature weight · prior · importance weight) per direction; finite or -inf (excluded).</summary>
    public required ReadOnlySpan<double> LogWeightDirection { get; init; }

    /// <summary>[N_p] lwP per in-plane angle; finite or -inf.</summary>
    public required ReadOnlySpan<double> LogWeightInPlane { get; init; }

    /// <summary>[N_t] lwT per shift; finite or -inf.</summary>
    public required ReadOnlySpan<double> LogWeightShift { get; init; }

    /// <summary>σ², the noise variance per coefficient after normalisation (&gt; 0; default 1).</summary>
    public double Sigma2 { get; init; }
}

/// <summary>
/// Where <see cref="MarginalLikelihoodKernel"/> writes its array outputs. Every span may be empty,
/// which skips that output; a non-empty span must have exactly the stated length. Leaving both
/// gradient spans empty selects the likelihood-only path (no gradient GEMMs).
/// </summary>
public readonly ref struct KernelOutputs
{
    /// <summary>[N_d] posterior marginal over directions, Σ_{p,t} γ(d,p,t); sums to 1.</summary>
    public Span<double> PosteriorDirection { get; init; }

    /// <summary>[N_p] posterior marginal over in-plane angles; sums to 1.</summary>
    public Span<double> PosteriorInPlane { get; init; }

    /// <summary>[N_t] posterior marginal over shifts; sums to 1.</summary>
    public Span<double> PosteriorShift { get; init; }

    /// <summary>
    /// [N_d · N_k] Re G[d,k] = ∂LL/∂Re S[d,k], where
    /// G[d,k] = (m_k/σ²) Σ_{p,t} γ(d,p,t) C[p,k] (Φ[t,k] A[p,k] − C[p,k] S[d,k]).
    /// </summary>
    public Span<float> GradientRe { get; init; }

    /// <summary>[N_d · N_k] Im G[d,k] = ∂LL/∂Im S[d,k].</summary>
    public Span<float> GradientIm { get; init; }

    /// <summary>True when either gradient span is non-empty.</summary>
    public bool WantsGradient => !GradientRe.IsEmpty || !GradientIm.IsEmpty;
}
