using CryoFlow.Numerics.Ctf;
using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Tests.Ctf;

public class CtfEvaluatorTests
{
    private static readonly CtfParameters Typical = new(
        DefocusU: 21000, DefocusV: 18000, DefocusAngleDeg: 35, VoltageKv: 300, SphericalAberrationMm: 2.7,
        AmplitudeContrast: 0.1, PhaseShiftDeg: 0, BFactor: 0, Scale: 1);

    /// <summary>RELION's CTF written out independently: polar form, angle by atan2, Q through asin.</summary>
    private static double Reference(CtfParameters p, double s, double theta)
    {
        double volts = p.VoltageKv * 1e3;
        double lambda = 12.2643247 / Math.Sqrt(volts + 0.978466e-6 * volts * volts);
        double df = -0.5 * (p.DefocusU + p.DefocusV) - 0.5 * (p.DefocusU - p.DefocusV) * Math.Cos(2 * (theta - p.DefocusAngleDeg / 180 * Math.PI));
        double gamma = Math.PI * lambda * df * s * s
            + 0.5 * Math.PI * (p.SphericalAberrationMm * 1e7) * Math.Pow(lambda, 3) * Math.Pow(s, 4)
            - p.PhaseShiftDeg / 180 * Math.PI
            - Math.Asin(p.AmplitudeContrast);
        return -Math.Sin(gamma) * Math.Exp(-p.BFactor * s * s / 4) * p.Scale;
    }

    [Fact]
    public void MatchesRelionsFormulaAtChosenFrequencies()
    {
        var p = Typical with { PhaseShiftDeg = 20, BFactor = 80, Scale = 0.9 };
        var e = p.CreateEvaluator();
        foreach (double s in new[] { 0.0, 0.003, 0.01, 0.05, 0.1, 0.2, 0.3 })
            foreach (double thetaDeg in new[] { -170.0, -90, -10, 0, 35, 60, 125, 179 })
            {
                double t = thetaDeg * Math.PI / 180;
                double expected = Reference(p, s, t);
                Assert.Equal(expected, e.Evaluate(s * Math.Cos(t), s * Math.Sin(t)), 10);
            }
    }

    [Fact]
    public void WavelengthAt300kVIsRelionsValue()
    {
        Assert.Equal(0.019687, Typical.WavelengthAngst, 5);
        Assert.Equal(0.025079, (Typical with { VoltageKv = 200 }).WavelengthAngst, 5);
    }

    [Fact]
    public void LowFrequencyValueIsPositiveAmplitudeContrastForUnderfocus()
    {
        var e = Typical.CreateEvaluator();
        Assert.Equal(0.1, e.Evaluate(0, 0), 12);
        // still positive, and rising, just above zero frequency (phase contrast adds to the amplitude term)
        Assert.True(e.Evaluate(0.004, 0) > 0.1);
        // a 90 degree phase plate makes CTF(0) = sqrt(1 - Q^2)
        Assert.Equal(Math.Sqrt(1 - 0.01), (Typical with { PhaseShiftDeg = 90 }).Evaluate(0, 0), 12);
    }

    [Fact]
    public void DefocusUActsAlongTheAstigmatismAngle()
    {
        var p = Typical with { DefocusU = 25000, DefocusV = 15000, DefocusAngleDeg = 30 };
        var alongU = Typical with { DefocusU = 25000, DefocusV = 25000 };
        var alongV = Typical with { DefocusU = 15000, DefocusV = 15000 };
        var e = p.CreateEvaluator();
        for (double s = 0.01; s < 0.3; s += 0.013)
        {
            double a = 30 * Math.PI / 180, b = a + Math.PI / 2;
            Assert.Equal(alongU.Evaluate(s, 0), e.Evaluate(s * Math.Cos(a), s * Math.Sin(a)), 10);
            Assert.Equal(alongV.Evaluate(s, 0), e.Evaluate(s * Math.Cos(b), s * Math.Sin(b)), 10);
        }
        // the first zero comes earlier along U (larger under-focus) than along V
        static double FirstZero(Func<double, double> f) { double s = 0.001; while (f(s) > 0) s += 1e-5; return s; }
        double zU = FirstZero(s => e.Evaluate(s * Math.Cos(Math.PI / 6), s * Math.Sin(Math.PI / 6)));
        double zV = FirstZero(s => e.Evaluate(-s * Math.Sin(Math.PI / 6), s * Math.Cos(Math.PI / 6)));
        Assert.True(zU < zV, $"first zero along U at {zU}, along V at {zV}");
    }

    [Fact]
    public void BFactorIsAGaussianEnvelopeOfQuarterB()
    {
        var sharp = Typical.CreateEvaluator();
        var blurred = (Typical with { BFactor = 120 }).CreateEvaluator();
        foreach (double s in new[] { 0.02, 0.07, 0.13, 0.21 })
        {
            double ratio = blurred.Evaluate(s * 0.6, s * 0.8) / sharp.Evaluate(s * 0.6, s * 0.8);
            Assert.Equal(Math.Exp(-120 * s * s / 4), ratio, 10);
        }
    }

    [Fact]
    public void HalfPlaneGridUsesSignedRowFrequencies()
    {
        const int d = 32;
        const double apix = 1.7;
        var e = Typical.CreateEvaluator();
        var grid = new float[d * (d / 2 + 1)];
        e.EvaluateHalfPlane(d, apix, grid);
        for (int r = 0; r < d; r++)
            for (int c = 0; c <= d / 2; c++)
            {
                int ky = r < d / 2 ? r : r - d;
                double s = Math.Sqrt(c * c + ky * ky) / (d * apix);
                Assert.Equal(Reference(Typical, s, Math.Atan2(ky, c)), grid[r * (d / 2 + 1) + c], 5);
            }
    }

    [Fact]
    public void DiscValuesAreTheHalfPlaneValuesGathered()
    {
        const int d = 32;
        const double apix = 2.1;
        var disc = new FourierDisc(d, 15);
        var e = Typical.CreateEvaluator();
        var grid = new float[d * (d / 2 + 1)];
        var onDisc = new float[disc.Count];
        e.EvaluateHalfPlane(d, apix, grid);
        e.EvaluateDisc(disc, apix, onDisc);
        for (int j = 0; j < disc.Count; j++) Assert.Equal(grid[disc.HalfPlaneIndex[j]], onDisc[j]);
    }

    [Fact]
    public void RotatedCtfIsTheCtfAtTheRotatedFrequency()
    {
        const int d = 64;
        const double apix = 1.3, psi = 0.7;
        var disc = new FourierDisc(d, 30);
        var e = Typical.CreateEvaluator();
        var rotated = new float[disc.Count];
        e.EvaluateDisc(disc, apix, rotated, psi);
        for (int j = 0; j < disc.Count; j++)
        {
            double x = disc.Kx[j] / (d * apix), y = disc.Ky[j] / (d * apix);
            // R2(psi) k: the same rotation the image rotator applies
            double rx = Math.Cos(psi) * x + Math.Sin(psi) * y, ry = -Math.Sin(psi) * x + Math.Cos(psi) * y;
            Assert.Equal(Reference(Typical, Math.Sqrt(rx * rx + ry * ry), Math.Atan2(ry, rx)), rotated[j], 5);
        }
        // R2(psi) turns frequencies by -psi, which is the same as turning the astigmatism angle by +psi
        var turned = (Typical with { DefocusAngleDeg = Typical.DefocusAngleDeg + psi * 180 / Math.PI }).CreateEvaluator();
        var viaAngle = new float[disc.Count];
        turned.EvaluateDisc(disc, apix, viaAngle);
        for (int j = 0; j < disc.Count; j++) Assert.Equal(viaAngle[j], rotated[j], 5);
    }
}
