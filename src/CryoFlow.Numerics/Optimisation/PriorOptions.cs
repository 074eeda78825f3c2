namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// The choice of density prior, one plain record per kind (exponential, uniform, CAR). Scales may be given
/// explicitly or relative to the model scale (the voxel-value scale estimated from the data, REFERENCE 1.9), as
/// the reference code does. The reconstruction configuration (<c>ReconstructConfig.Prior</c>) builds them.
/// </summary>
public abstract record PriorOptions
{
    private protected PriorOptions() { }

    /// <summary>The default: exponential with lambda = 0.9 / model scale.</summary>
    public static PriorOptions Default { get; } = new ExponentialPriorOptions();

    /// <param name="boxSize">D</param>
    /// <param name="trainingSetSize">N_train</param>
    /// <param name="modelScale">voxel-value scale, needed when a scale is given relative to it</param>
    public abstract IDensityPrior Create(int boxSize, long trainingSetSize, double? modelScale = null);

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first bad member (camelCase).</summary>
    public abstract void Validate();

    private protected static double RequireModelScale(double? modelScale, string field) =>
        modelScale is double m && m > 0 && double.IsFinite(m)
            ? m
            : throw new ArgumentException($"the prior's {field} is relative to the model scale, which is {(modelScale is null ? "not known" : $"{modelScale}")}; give a positive model scale or an explicit value", nameof(modelScale));
}

/// <summary>Exponential prior: lambda explicit, or <see cref="Sparsity"/> / model scale.</summary>
public sealed record ExponentialPriorOptions : PriorOptions
{
    /// <summary>Rate per unit density; null to use <see cref="Sparsity"/> / model scale.</summary>
    public double? Lambda { get; init; }

    /// <summary>lambda in units of 1 / model scale (the reference's 0.9).</summary>
    public double Sparsity { get; init; } = 0.9;

    public override IDensityPrior Create(int boxSize, long trainingSetSize, double? modelScale = null)
    {
        Validate();
        return new ExponentialPrior(Lambda ?? ExponentialPrior.ReferenceLambda(RequireModelScale(modelScale, "sparsity"), Sparsity), trainingSetSize);
    }

    public override void Validate()
    {
        if (Lambda is double l) SettingCheck.Positive(l, "lambda");
        SettingCheck.Positive(Sparsity, "sparsity");
    }
}

/// <summary>The improper uniform prior.</summary>
public sealed record UniformPriorOptions : PriorOptions
{
    public override IDensityPrior Create(int boxSize, long trainingSetSize, double? modelScale = null) => UniformPrior.Instance;

    public override void Validate()
    {
    }
}

/// <summary>CAR prior: tau explicit, or <see cref="TauPerModelScale"/> x model scale.</summary>
public sealed record CarPriorOptions : PriorOptions
{
    /// <summary>Density units; null to use <see cref="TauPerModelScale"/> x model scale.</summary>
    public double? Tau { get; init; }

    /// <summary>tau in units of the model scale; 75 is the reference code's <c>car_tau</c> (set there for its Gaussian-weighted W).</summary>
    public double TauPerModelScale { get; init; } = 75;

    public CarForm Form { get; init; } = CarForm.ConditionalResidual;

    public override IDensityPrior Create(int boxSize, long trainingSetSize, double? modelScale = null)
    {
        Validate();
        return new CarPrior(boxSize, Tau ?? TauPerModelScale * RequireModelScale(modelScale, "tauPerModelScale"), trainingSetSize, Form);
    }

    public override void Validate()
    {
        if (Tau is double t) SettingCheck.Positive(t, "tau");
        SettingCheck.Positive(TauPerModelScale, "tauPerModelScale");
        if (!Enum.IsDefined(Form)) throw new InvalidSettingException("form", $"unknown CAR form {Form}");
    }
}
