namespace CryoFlow.Pipeline.Configuration;

/// <summary>The density prior (DESIGN 5, REFERENCE 5.5).</summary>
public enum PriorKind
{
    /// <summary>p(v) proportional to exp(-lambda v) on v &gt;= 0 (the papers' default; the reference's "sparsity" prior).</summary>
    Exponential,

    /// <summary>Improper uniform: no prior term.</summary>
    Uniform,

    /// <summary>Conditional autoregressive: each voxel Gaussian around the mean of its 26 neighbours.</summary>
    Car,
}

/// <summary>
/// Prior settings. The reference code measures lambda in units of 1/modelscale and tau in units of modelscale
/// (modelscale from the data's DC estimate, REFERENCE 1.9), so the same numbers work for any data scale.
/// </summary>
public sealed record PriorOptions : IConfigSection
{
    public PriorKind Kind { get; init; } = PriorKind.Exponential;

    /// <summary>Exponential rate (REFERENCE 5.5: sparsity_lambda 0.9).</summary>
    public double Lambda { get; init; } = 0.9;

    /// <summary>CAR standard deviation (REFERENCE 5.5: car_tau 75).</summary>
    public double CarTau { get; init; } = 75;

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.Positive(nameof(Lambda), Lambda);
        check.Positive(nameof(CarTau), CarTau);
    }
}
