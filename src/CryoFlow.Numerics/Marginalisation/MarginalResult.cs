using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Likelihood;

namespace CryoFlow.Numerics.Marginalisation;

/// <summary>One particle's marginalisation (<see cref="ParticleMarginaliser"/>).</summary>
/// <param name="LogLikelihood">
/// LL = log Σ_poses w(pose) exp(-½ ‖x - model_pose‖²) for the σ-normalised image x (all D² pixels) and the model
/// band-limited to |k| &lt; r*, i.e. log p(x | V) + (D²/2) log 2π. See <see cref="ParticleMarginaliser"/> for the
/// exact terms and what is left out. -inf when no pose has a finite log-weight.
/// </param>
/// <param name="Best">the most probable evaluated pose, as indices into the subset (<see cref="PoseIndex.None"/> if LL = -inf)</param>
/// <param name="BestDirection">the slice-set index of the best pose's direction (-1 if none)</param>
/// <param name="BestPose">the best pose in RELION's conventions (angles in degrees, origin in Å; default if none)</param>
/// <param name="BestProbability">its normalised posterior probability among the evaluated poses</param>
/// <param name="ExpectedSquaredError">Σ_poses γ Σ_{|k| &lt; r*} m_k |residual|², noise units (RREMSE numerator)</param>
/// <param name="EvaluatedPoses">N_d N_p N_t</param>
public readonly record struct MarginalResult(
    double LogLikelihood, PoseIndex Best, int BestDirection, Pose BestPose, double BestProbability, double ExpectedSquaredError, long EvaluatedPoses);

/// <summary>Optional array outputs of <see cref="ParticleMarginaliser.Evaluate(PreparedParticle, SliceSet, in PoseSubset, SliceGradient?, in MarginalOutputs)"/>; empty spans are skipped.</summary>
public readonly ref struct MarginalOutputs
{
    /// <summary>[N_d] posterior marginal over the subset's directions (sums to 1).</summary>
    public Span<double> PosteriorDirection { get; init; }

    /// <summary>[N_p] posterior marginal over in-plane angles.</summary>
    public Span<double> PosteriorInPlane { get; init; }

    /// <summary>[N_t] posterior marginal over shifts.</summary>
    public Span<double> PosteriorShift { get; init; }
}
