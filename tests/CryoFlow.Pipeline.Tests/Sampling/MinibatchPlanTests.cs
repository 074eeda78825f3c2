using CryoFlow.Pipeline.Sampling;

namespace CryoFlow.Pipeline.Tests.Sampling;

public class MinibatchPlanTests
{
    [Fact]
    public void EveryParticleIsInExactlyOnePlaceAndTheTestSetNeverInABatch()
    {
        var plan = new MinibatchPlan(5003, 200, 200, seed: 4);
        Assert.Equal(200, plan.TestSet.Length);
        Assert.Equal(24, plan.BatchCount); // floor(4803 / 200)
        var seen = new HashSet<int>(plan.TestSet);
        for (int b = 0; b < plan.BatchCount; b++)
            foreach (int p in plan.Batch(b)) Assert.True(seen.Add(p), $"particle {p} twice");
        Assert.Equal(5003, seen.Count);
        var sizes = Enumerable.Range(0, plan.BatchCount).Select(b => plan.Batch(b).Length).ToArray();
        Assert.True(sizes.Max() - sizes.Min() <= 1);
        Assert.Equal(4803, sizes.Sum());
    }

    [Fact]
    public void EachEpochVisitsEveryBatchOnceInASeededOrder()
    {
        var plan = new MinibatchPlan(1000, 100, 100, seed: 7);
        int n = plan.BatchCount;
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var visited = Enumerable.Range(1, n).Select(i => plan.BatchAt(epoch * n + i)).ToArray();
            Assert.Equal(Enumerable.Range(0, n), visited.Order());
            Assert.Equal(plan.EpochOrder(epoch), visited);
        }
        Assert.NotEqual(plan.EpochOrder(0), plan.EpochOrder(1));
    }

    [Fact]
    public void SameSeedSamePlanOtherSeedOtherPlan()
    {
        var a = new MinibatchPlan(800, 50, 64, 1);
        var b = new MinibatchPlan(800, 50, 64, 1);
        var c = new MinibatchPlan(800, 50, 64, 2);
        Assert.Equal(a.TestSet, b.TestSet);
        Assert.Equal(a.Batch(3).ToArray(), b.Batch(3).ToArray());
        Assert.Equal(Enumerable.Range(1, 40).Select(i => a.BatchAt(i)), Enumerable.Range(1, 40).Select(i => b.BatchAt(i)));
        Assert.NotEqual(a.TestSet, c.TestSet);
    }

    [Fact]
    public void SmallDatasetsKeepAtLeastOneTrainingBatch()
    {
        var plan = new MinibatchPlan(10, 200, 200, 3);
        Assert.Equal(9, plan.TestSet.Length);
        Assert.Equal(1, plan.BatchCount);
        Assert.Equal(1, plan.Batch(0).Length);
    }
}
