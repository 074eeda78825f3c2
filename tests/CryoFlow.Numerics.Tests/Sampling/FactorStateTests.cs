using CryoFlow.Numerics.Sampling;

namespace CryoFlow.Numerics.Tests.Sampling;

public class FactorStateTests
{
    [Fact]
    public void SerialisationRoundTripsEveryField()
    {
        var state = new FactorState(7, 1234, [3, 9, 40], [0.25, 0.5, 0.25]);
        var bytes = new byte[state.SerializedSize + 5];
        Assert.Equal(FactorState.HeaderSize + 3 * FactorState.BytesPerPoint, state.WriteTo(bytes));
        var back = FactorState.Read(bytes);
        Assert.Equal(7, back.LevelId);
        Assert.Equal(1234, back.Iteration);
        Assert.Equal(state.Indices.ToArray(), back.Indices.ToArray());
        Assert.Equal(state.Values.ToArray(), back.Values.ToArray());
    }

    [Fact]
    public void ReadRejectsTruncatedBytes()
    {
        var state = new FactorState(1, 2, [0, 1], [0.5, 0.5]);
        var bytes = new byte[state.SerializedSize];
        state.WriteTo(bytes);
        Assert.Throws<ArgumentException>(() => FactorState.Read(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Throws<ArgumentException>(() => state.WriteTo(new byte[3]));
    }

    [Fact]
    public void RecordDividesOutImportanceWeightsAndAnneals()
    {
        // posterior carries the importance weight: phi = w_is * f; recording must give f^(1/T) normalised
        double[] f = [0.1, 0.6, 0.3], logw = [Math.Log(2), Math.Log(0.5), 0];
        var posterior = f.Select((v, k) => v * Math.Exp(logw[k]) * 17).ToArray();
        var s = FactorState.Record(0, 5, [4, 8, 2], logw, posterior, temperature: 2);
        var expect = f.Select(Math.Sqrt).ToArray();
        double z = expect.Sum();
        Assert.Equal([4, 8, 2], s.Indices.ToArray());
        for (int k = 0; k < 3; k++) Assert.Equal(expect[k] / z, s.Values[k], 12);
    }

    [Fact]
    public void RecordPrunesNegligiblePoints()
    {
        var s = FactorState.Record(0, 0, [0, 1, 2], [0, 0, 0], [1, 1e-20, 0], temperature: 1, pruneRelative: 1e-10);
        Assert.Equal([0], s.Indices.ToArray());
        Assert.Equal(1.0, s.Values[0]);
    }
}

public class GlobalDistributionTests
{
    [Fact]
    public void AccumulateAddsOneNormalisedDistributionPerParticleAndRemoveUndoesIt()
    {
        var d = SamplingScenes.SphereDomain(500);
        var k = KernelTable.Build(d, d, flip: false);
        var g = new GlobalDistribution(d);
        var a = new FactorState(0, 0, [3, 4], [0.5, 0.5]);
        var b = new FactorState(0, 0, [200], [1.0]);
        g.Accumulate(a, k);
        g.Accumulate(b, k);
        g.Accumulate(a, k, -1);
        Assert.Equal(1.0, g.Weight);
        var snap = g.Snapshot(1);
        Assert.Equal(1.0, snap.Probabilities.ToArray().Sum(), 12);
        Assert.Equal(0.0, snap.Probabilities[3], 12);
        Assert.True(snap.Probabilities[200] > 0.05);
        // unseen particles count as uniform
        var half = g.Snapshot(2);
        Assert.Equal(0.5 * snap.Probabilities[200] + 0.5 / 500, half.Probabilities[200], 12);
    }

    [Fact]
    public void AnExportedDistributionImportsAsTheSame()
    {
        var d = SamplingScenes.SphereDomain(300);
        var k = KernelTable.Build(d, d, flip: false);
        var g = new GlobalDistribution(d);
        g.Accumulate(new FactorState(0, 0, [3, 40], [0.25, 0.75]), k);
        g.Accumulate(new FactorState(0, 0, [7], [1.0]), k);
        var (sum, weight) = g.Export();
        var back = GlobalDistribution.Import(d, sum, weight);
        Assert.Equal(g.Weight, back.Weight);
        Assert.Equal(g.Snapshot(10).Probabilities.ToArray(), back.Snapshot(10).Probabilities.ToArray());
        Assert.Throws<ArgumentException>(() => GlobalDistribution.Import(d, new double[299], 1));
    }

    [Fact]
    public void RemapKeepsMassAndWeightOnTheFinerLevel()
    {
        var coarse = SamplingScenes.SphereDomain(300, 0);
        var fine = SamplingScenes.SphereDomain(2000, 1);
        var g = new GlobalDistribution(coarse);
        g.Accumulate(new FactorState(0, 0, [10, 150], [0.3, 0.7]), KernelTable.Build(coarse, coarse, false));
        var moved = GlobalDistribution.Remap(g, KernelTable.Build(coarse, fine, false));
        Assert.Equal(1.0, moved.Weight);
        Assert.Equal(1.0, moved.Snapshot(1).Probabilities.ToArray().Sum(), 12);
        Assert.Same(fine, moved.Domain);
    }
}
