using CryoFlow.Numerics.Quadrature;
using CryoFlow.Numerics.Sampling;

namespace CryoFlow.Numerics.Tests.Sampling;

public class KernelTableTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SphereTableMatchesBruteForceTruncatedVonMisesFisher(bool flip)
    {
        var source = SamplingScenes.SphereDomain(300, levelId: 0);
        var target = SamplingScenes.SphereDomain(1200, levelId: 1);
        var table = KernelTable.Build(source, target, flip);
        var dirsS = SphereQuadrature.SaffKuijlaars(300);
        var dirsT = SphereQuadrature.SaffKuijlaars(1200);
        double kappa = FactorDomain.SphereConcentration(3.6 / Math.Sqrt(300)); // the OLD level's bandwidth
        for (int i = 0; i < source.Count; i += 7)
        {
            var expect = new Dictionary<int, double>();
            for (int j = 0; j < target.Count; j++)
            {
                double c = dirsS[i].Dot(dirsT[j]);
                if (flip) c = Math.Max(c, -c);
                double v = Math.Exp(kappa * (c - 1));
                if (v >= KernelTable.DefaultEpsilon) expect[j] = v;
            }
            var nb = table.Neighbours(i).ToArray();
            var kv = table.Values(i).ToArray();
            Assert.Equal(expect.Count, nb.Length);
            for (int e = 0; e < nb.Length; e++) Assert.Equal(expect[nb[e]], kv[e], 1e-12);
            Assert.Equal(expect.Values.Sum(), table.RowSum(i), 10);
            Assert.Equal(1.0, table.Cumulative(i)[^1]);
        }
    }

    [Fact]
    public void SphereKernelIsAQuarterAtOneResolution()
    {
        double r = 0.1, kappa = FactorDomain.SphereConcentration(r);
        Assert.Equal(0.25, Math.Exp(kappa * (Math.Cos(r) - 1)), 12);
        Assert.Equal(0.5, Math.Exp(FactorDomain.CircleConcentration(r) * (Math.Cos(r) - 1)), 12);
    }

    [Fact]
    public void NeighbourCountsStayBoundedAsTheGridRefines()
    {
        foreach (int m in new[] { 500, 5000, 20000 })
        {
            var d = SamplingScenes.SphereDomain(m);
            var t = KernelTable.Build(d, d, flip: false);
            Assert.InRange(t.MeanNeighbours, 10, 40);
        }
    }

    [Fact]
    public void ShiftTableUsesTheSourceNodesSpacing()
    {
        var level = QuadratureLevel.Create(new QuadratureSpec(64, 2.8, 0.05));
        var d = FactorDomain.Shifts(level, 0);
        Assert.True(d.Count > 1);
        var t = KernelTable.Build(d, d, flip: true); // flip is ignored for shifts
        Assert.False(t.Flip);
        for (int i = 0; i < d.Count; i++)
        {
            double sigma = FactorDomain.ShiftSigmaScale * level.ShiftResolution[i];
            var nb = t.Neighbours(i);
            var kv = t.Values(i);
            for (int e = 0; e < nb.Length; e++)
            {
                double dx = d.X[nb[e]] - d.X[i], dy = d.Y[nb[e]] - d.Y[i];
                Assert.Equal(Math.Exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)), kv[e], 12);
            }
            Assert.Contains(i, nb.ToArray());
        }
    }
}
