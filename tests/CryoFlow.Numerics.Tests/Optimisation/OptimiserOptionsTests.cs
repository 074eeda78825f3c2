using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class OptimiserOptionsTests
{
    [Fact]
    public void TheDefaultOptimiserIsThePapersSagd()
    {
        var sagd = Assert.IsType<SagdOptimiser>(SagdOptions.Paper.Create(8, 3));
        Assert.Equal(PaperSchedules.StepScale, sagd.StepScale);
        Assert.Equal(1, sagd.ForgettingFactor(500));
        Assert.Equal(0, sagd.LowerBound);
        Assert.Equal(LineSearchOptions.Paper, sagd.Lipschitz.Options);
    }

    [Fact]
    public void EachKindBuildsItsOptimiser()
    {
        Assert.IsType<SgdOptimiser>(new SgdOptions().Create(4, 2));
        Assert.IsType<MomentumOptimiser>(new MomentumOptions().Create(4, 2));
        Assert.IsType<NesterovOptimiser>(new NesterovOptions().Create(4, 2));
        Assert.IsType<AdaGradOptimiser>(new AdaGradOptions { LearningRate = new Schedule.Constant(0.1) }.Create(4, 2));
        var history = new InMemoryGradientHistory(2, 4);
        Assert.Same(history, Assert.IsType<SagdOptimiser>(new SagdOptions().Create(4, 2, history)).History);
    }

    [Fact]
    public void OptionsArePlainRecordsComparedByValue()
    {
        Assert.Equal(SagdOptions.Paper, new SagdOptions());
        Assert.Equal(SagdOptions.Reference, new SagdOptions { ForgettingWindow = new Schedule.Staircase(1, 0.1, 1), LineSearch = LineSearchOptions.Reference });
        Assert.NotEqual<OptimiserOptions>(new SgdOptions(), new SagdOptions());
        Assert.NotEqual<OptimiserOptions>(new MomentumOptions(), new NesterovOptions());
    }

    [Fact]
    public void AdaGradNeedsALearningRate() =>
        Assert.Equal("learningRate", Assert.Throws<InvalidSettingException>(new AdaGradOptions { LearningRate = null! }.Validate).Field);

    [Fact]
    public void ValidationNamesTheBadMemberWithItsEnclosingObject()
    {
        var bad = new SagdOptions { LineSearch = new LineSearchOptions { Growth = 0.5 } };
        Assert.Equal("lineSearch.growth", Assert.Throws<InvalidSettingException>(bad.Validate).Field);
        Assert.Equal("lowerBound", Assert.Throws<InvalidSettingException>(new SgdOptions { LowerBound = double.NaN }.Validate).Field);
        Assert.Equal("delta", Assert.Throws<InvalidSettingException>(new AdaGradOptions { LearningRate = new Schedule.Constant(1), Delta = 0 }.Validate).Field);
        Assert.Throws<InvalidSettingException>(() => bad.Create(4, 2));
    }

    [Fact]
    public void MomentumOutsideZeroToOneIsRefusedWhenStepping()
    {
        var o = new MomentumOptions { Momentum = new Schedule.Constant(1) }.Create(1, 1);
        float[] v = [1], g = [1];
        Assert.Throws<InvalidOperationException>(() => o.Step(new OptimiserContext { Iteration = 0, Batch = 0, Volume = v, DataGradient = g }));
    }
}
