namespace CryoFlow.Numerics.Sampling;

/// <summary>
/// How one factor's proposal is mixed and sized for one visit (REFERENCE 4.5):
/// q = (1 - a) q_particle + a [(1 - g) / M + g q_global], N = min(ceil(s0 ESS(q)), M) draws.
/// </summary>
/// <param name="UniformShare">a in [0, 1]: the share not taken from the particle's state (reference: max(0.05, 2^(-0.005 max(0, it_prev - 50))))</param>
/// <param name="GlobalShare">g in [0, 1]: the global distribution's share inside a (reference: 0.9 directions, ~0 in-plane, 0.9 shifts)</param>
/// <param name="EssScale">s0 &gt; 0 (reference 10)</param>
/// <param name="ChiralityFlip">smooth d with -d (psi with psi + pi); reference: iteration &lt; 2500</param>
public readonly record struct ProposalParameters(double UniformShare, double GlobalShare, double EssScale, bool ChiralityFlip = false)
{
    /// <summary>Evaluate the full grid when ESS(q) &gt;= this fraction of M.</summary>
    public double FullGridFraction { get; init; } = 0.95;

    internal void Validate()
    {
        if (!(UniformShare >= 0 && UniformShare <= 1)) throw new ArgumentOutOfRangeException(nameof(UniformShare), UniformShare, "must be in [0, 1]");
        if (!(GlobalShare >= 0 && GlobalShare <= 1)) throw new ArgumentOutOfRangeException(nameof(GlobalShare), GlobalShare, "must be in [0, 1]");
        if (!(EssScale > 0) || double.IsInfinity(EssScale)) throw new ArgumentOutOfRangeException(nameof(EssScale), EssScale, "must be positive and finite");
        if (!(FullGridFraction > 0 && FullGridFraction <= 1)) throw new ArgumentOutOfRangeException(nameof(FullGridFraction), FullGridFraction, "must be in (0, 1]");
    }
}
