using CryoFlow.Numerics.Optimisation;
using NumericPrior = CryoFlow.Numerics.Optimisation.PriorOptions;

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

    /// <summary>
    /// The Numerics settings of <see cref="Kind"/>: lambda as <see cref="ExponentialPriorOptions.Sparsity"/> and tau as
    /// <see cref="CarPriorOptions.TauPerModelScale"/>, both relative to the model scale; CAR in the paper's form.
    /// </summary>
    public NumericPrior CreatePriorOptions() => Kind switch
    {
        PriorKind.Exponential => new ExponentialPriorOptions { Sparsity = Lambda },
        PriorKind.Uniform => new UniformPriorOptions(),
        PriorKind.Car => new CarPriorOptions { TauPerModelScale = CarTau },
        _ => throw new InvalidOperationException($"prior.kind: unknown prior {Kind}"),
    };

    /// <summary>The prior for a run: lambda = <see cref="Lambda"/> / modelScale, or tau = <see cref="CarTau"/> x modelScale.</summary>
    /// <param name="boxSize">D, the working box edge in px</param>
    /// <param name="trainingCount">N_train, images in the training set (the prior is -log p(V) / N_train)</param>
    /// <param name="modelScale">voxel-value scale from the data (REFERENCE 1.9); needed by the exponential and CAR priors</param>
    /// <exception cref="ArgumentException">the kind needs a model scale and <paramref name="modelScale"/> is null or not positive</exception>
    public IDensityPrior CreatePrior(int boxSize, long trainingCount, double? modelScale) =>
        CreatePriorOptions().Create(boxSize, trainingCount, modelScale);

    void IConfigSection.Validate(ConfigChecks check)
    {
        check.Positive(nameof(Lambda), Lambda);
        check.Positive(nameof(CarTau), CarTau);
    }
}
