using CryoFlow.Numerics.Optimisation;
using CryoFlow.Pipeline.Configuration;

namespace CryoFlow.Cli.Tests.Configuration;

/// <summary>The prior section and the Numerics prior it builds.</summary>
public class PriorOptionsTests
{
    private static ReconstructConfig Set(params string[] sets) => ReconstructConfig.Load(null, sets);

    [Fact]
    public void TheDefaultIsTheExponentialPriorWithLambdaInUnitsOfOneOverTheModelScale()
    {
        Assert.Equal(new ExponentialPriorOptions { Sparsity = 0.9 }, ReconstructConfig.Default.Prior.CreatePriorOptions());
        var prior = Assert.IsType<ExponentialPrior>(ReconstructConfig.Default.Prior.CreatePrior(16, 1000, modelScale: 2));
        Assert.Equal(0.45, prior.Lambda, 15);
        Assert.Equal(1000, prior.TrainingSetSize);
        Assert.Equal(ExponentialPrior.ReferenceLambda(2), prior.Lambda);
    }

    [Fact]
    public void CarTauIsInUnitsOfTheModelScale()
    {
        var car = Assert.IsType<CarPrior>(Set("prior.kind=car", "prior.carTau=50").Prior.CreatePrior(8, 100, modelScale: 0.01));
        Assert.Equal(0.5, car.Tau, 15);
        Assert.Equal(8, car.BoxSize);
        Assert.Equal(100, car.TrainingSetSize);
        Assert.Equal(CarForm.ConditionalResidual, car.Form);
    }

    [Fact]
    public void TheUniformPriorNeedsNoModelScale() =>
        Assert.Same(UniformPrior.Instance, Set("prior.kind=uniform").Prior.CreatePrior(8, 100, modelScale: null));

    [Fact]
    public void ARelativeScaleWithoutAModelScaleIsRefused()
    {
        Assert.Throws<ArgumentException>(() => ReconstructConfig.Default.Prior.CreatePrior(8, 100, modelScale: null));
        Assert.Throws<ArgumentException>(() => Set("prior.kind=car").Prior.CreatePrior(8, 100, modelScale: 0));
    }
}
