using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Numerics.Tests.Optimisation;

public class ShellPreconditionerTests
{
    // amplitude contrast near 1, no defocus, no Cs: CTF = 1 at every frequency
    private static readonly CtfEvaluator Flat = new CtfParameters(0, 0, 0, 300, 0, 0.9999999).CreateEvaluator();

    [Fact]
    public void WithAFlatCtfTheScaleIsTheInverseCoverageTwoRUpToTheCapInsideTheBand()
    {
        const int d = 32;
        var p = new float[ShellPreconditioner.Length(d)];
        ShellPreconditioner.FromCtfs(d, 2.0, [Flat], bandRadius: 12, cap: 20, p);
        Assert.Equal(3 * 16 * 16 + 1, p.Length);
        Assert.Equal(1, p[0], 1e-4);        // the origin: every slice holds it
        Assert.Equal(2, p[1], 1e-4);        // r = 1
        Assert.Equal(6, p[9], 1e-4);        // r = 3
        Assert.Equal(16, p[64], 1e-4);      // r = 8
        Assert.Equal(20, p[121], 1e-4);     // r = 11: 2r = 22, capped at 20
        Assert.Equal(20, p[144], 1e-4);     // r = 12, the band's edge
        Assert.Equal(1, p[145]);            // beyond the band: untouched
        Assert.Equal(1, p[^1]);
    }

    [Fact]
    public void ShellsNearACtfZeroGetTheCapAndTheStiffestShellGetsOne()
    {
        const int d = 64;
        const double apix = 3;
        var ctf = new CtfParameters(20000, 20000, 0, 300, 2.7, 0.1).CreateEvaluator();
        var p = new float[ShellPreconditioner.Length(d)];
        ShellPreconditioner.FromCtfs(d, apix, [ctf], bandRadius: 30, cap: 50, p);
        Assert.Equal(1, p.Take(901).Min(), 1e-5);
        // the CTF's first zero: gamma(s) = -pi, near s = 1/sqrt(lambda df) (about 20 Å at 300 kV and 2 um), r = s D apix
        double first = Enumerable.Range(1, 900).Select(j => (j, c: Math.Abs(ctf.Evaluate(Math.Sqrt(j) / (d * apix), 0)))).MinBy(t => t.c).j;
        Assert.Equal(50, p[(int)first], 1e-3);
        // every in-band entry lies in [1, cap]
        Assert.All(p.Take(901), v => Assert.InRange(v, 1f, 50f));
    }

    [Fact]
    public void RefusesAnEmptySampleAndAWrongLength()
    {
        Assert.Throws<ArgumentException>(() => ShellPreconditioner.FromCtfs(8, 1, [], 3, 10, new float[ShellPreconditioner.Length(8)]));
        Assert.Throws<ArgumentException>(() => ShellPreconditioner.FromCtfs(8, 1, [Flat], 3, 10, new float[5]));
    }
}
