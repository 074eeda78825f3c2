using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class InMemoryGradientHistoryTests
{
    [Fact]
    public void ABatchReadsBackTheLatestGradientWrittenForIt()
    {
        var h = new InMemoryGradientHistory(3, 2);
        var buffer = new float[] { -7, -7 };
        Assert.False(h.Contains(1));
        Assert.False(h.TryRead(1, buffer));
        Assert.Equal([-7, -7], buffer);
        h.Write(1, [1, 2]);
        h.Write(1, [3, 4]);
        Assert.True(h.Contains(1));
        Assert.True(h.TryRead(1, buffer));
        Assert.Equal([3, 4], buffer);
        Assert.False(h.Contains(0));
    }

    [Fact]
    public void WritingCopiesSoTheCallerMayReuseItsBuffer()
    {
        var h = new InMemoryGradientHistory(1, 2);
        var g = new float[] { 1, 2 };
        h.Write(0, g);
        g[0] = 99;
        var back = new float[2];
        h.TryRead(0, back);
        Assert.Equal([1, 2], back);
    }

    [Fact]
    public void ClearForgetsGradientsSumAndWeights()
    {
        var h = new InMemoryGradientHistory(2, 2);
        h.Write(0, [1, 1]);
        h.Sum[0] = 5;
        h.Weights[1] = 0.5;
        h.Clear();
        Assert.False(h.Contains(0));
        Assert.Equal([0, 0], h.Sum.ToArray());
        Assert.Equal([0, 0], h.Weights.ToArray());
    }

    [Fact]
    public void BadBatchIdsAndLengthsAreRefused()
    {
        var h = new InMemoryGradientHistory(2, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Write(2, new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Contains(-1));
        Assert.Throws<ArgumentException>(() => h.Write(0, new float[2]));
        h.Write(0, new float[3]);
        Assert.Throws<ArgumentException>(() => h.TryRead(0, new float[4]));
    }
}
