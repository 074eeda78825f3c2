using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Quadrature;

namespace CryoFlow.Numerics.Tests.Quadrature;

public class QuadratureLevelTests
{
    // REFERENCE.md 8.1/8.2: N = 128, psize = 2.8 Å, sigma 10 Å, extent 60 Å.
    private const int N = 128;
    private const double Psize = 2.8;

    [Theory]
    // f (1/Å), us, N_T, M_d, M_psi
    [InlineData(0.020, 1.5, 161, 300, 31)]
    [InlineData(0.025, 1.5, 249, 467, 38)]
    [InlineData(0.030, 1.25, 357, 965, 55)]
    [InlineData(0.040, 1.0, 657, 2673, 91)]
    [InlineData(0.050, 1.0, 1005, 4171, 113)]
    [InlineData(0.055, 1.0, 1217, 5045, 124)]
    [InlineData(0.100, 1.0, 4025, 16656, 226)]
    [InlineData(1 / 9.0, 1.0, 4973, 20561, 251)]
    public void SizesReproduceTheReferenceTable(double f, double us, int nT, int md, int mpsi)
    {
        double r = QuadratureSizing.CutoffRadius(f, N, Psize);
        Assert.Equal(nT, new FourierDisc(N, r).FullDiscCount);
        Assert.Equal(md, QuadratureSizing.DirectionCount(r, us));
        Assert.Equal(mpsi, QuadratureSizing.InPlaneCount(r, us));
        var level = QuadratureLevel.Create(new QuadratureSpec(N, Psize, f) { UndersampleDirections = us, UndersampleInPlane = us, ShiftPointsPerAxis = 1 });
        Assert.Equal(md, level.Directions.Length);
        Assert.Equal(mpsi, level.InPlaneAngles.Length);
    }

    [Theory]
    // f, us_S, rule, forced degree (0 = formula), expected degree, expected M_t (kept in the disc)
    [InlineData(0.025, 1.5, ShiftRule.Hermite, 3, 3, 9)]
    [InlineData(0.030, 1.25, ShiftRule.Hermite, 5, 5, 25)]
    [InlineData(0.040, 1.0, ShiftRule.Hermite, 0, 11, 109)]
    [InlineData(0.050, 1.0, ShiftRule.Hermite, 0, 13, 129)]
    [InlineData(0.055, 1.0, ShiftRule.Hermite, 0, 15, 149)]
    [InlineData(0.060, 0.75, ShiftRule.Legendre, 0, 21, 221)]
    [InlineData(0.100, 0.5, ShiftRule.Legendre, 0, 49, 1201)]
    public void ShiftGridsReproduceTheReferenceTableAtHalfPeriodSpacing(double f, double usS, ShiftRule rule, int forced, int degree, int count)
    {
        // The reference code spaces shifts at half a period (2 samples per period); CryoFlow's default is 1.
        var spec = new QuadratureSpec(N, Psize, f) { UndersampleShifts = usS, ShiftSamplesPerPeriod = 2, ShiftRule = rule, ShiftPointsPerAxis = forced == 0 ? null : forced };
        var level = QuadratureLevel.Create(spec);
        Assert.Equal(degree, level.ShiftPointsPerAxis);
        Assert.Equal(count, level.Shifts.Length);
    }

    [Fact]
    public void DefaultShiftSpacingIsOneSamplePerPeriod()
    {
        // f = 0.05: one period at w* is D / r* = 7.14 px; E = 21.4 px -> 1 + 2 round(3.0) = 7 points per axis.
        var level = QuadratureLevel.Create(new QuadratureSpec(N, Psize, 0.05));
        Assert.Equal(7, level.ShiftPointsPerAxis);
        Assert.Equal(1, QuadratureLevel.Create(new QuadratureSpec(N, Psize, 0.05) { ShiftPointsPerAxis = 1 }).Shifts.Length);
    }

    [Fact]
    public void BasicAngleIsTheArccosFormula()
    {
        foreach (double r in new[] { 0.5, 1, 7.168, 17.92, 39.8, 200 })
            Assert.Equal(0.5 * Math.Acos((r * r - 1) / (r * r + 1)), QuadratureSizing.BasicAngle(r), 9);
    }

    [Fact]
    public void DirectionsAreUnitVectorsWithRelionAnglesAndWeightsSummingTo4Pi()
    {
        var level = QuadratureLevel.Create(new QuadratureSpec(64, 3.0, 0.05));
        double sum = 0;
        for (int j = 0; j < level.Directions.Length; j++)
        {
            var d = level.Directions[j];
            Assert.Equal(1, Math.Sqrt(d.Dot(d)), 12);
            var a = level.DirectionRotations[j];
            Assert.True(Math.Abs(a.M20 - d.X) + Math.Abs(a.M21 - d.Y) + Math.Abs(a.M22 - d.Z) < 1e-12, $"bottom row of A_{j} is not d_{j}");
            Assert.Equal(0, level.DirectionAngles[j].PsiDeg);
            sum += Math.Exp(level.DirectionLogWeights[j]);
        }
        Assert.Equal(4 * Math.PI, sum, 9);
    }

    [Theory]
    [InlineData(300)]
    [InlineData(1311)]
    [InlineData(4171)]
    public void SpiralCoversTheSphereNearUniformly(int m)
    {
        var dirs = SphereQuadrature.SaffKuijlaars(m);
        double spacing = Math.Sqrt(4 * Math.PI / m); // side of the mean cell, radians
        var rng = new Random(m);
        double worst = 0;
        for (int i = 0; i < 3000; i++)
        {
            double z = rng.NextDouble() * 2 - 1, phi = rng.NextDouble() * 2 * Math.PI, s = Math.Sqrt(1 - z * z);
            var u = new UnitVector(s * Math.Cos(phi), s * Math.Sin(phi), z);
            double best = -1;
            foreach (var d in dirs) best = Math.Max(best, u.Dot(d));
            worst = Math.Max(worst, Math.Acos(Math.Min(1, best)));
        }
        Assert.True(worst < 1.5 * spacing, $"a random direction is {worst / spacing:F2} spacings from the grid");
        // equal weights integrate low-degree polynomials up to O(1/M) (the h_k grid includes both poles):
        // int z^2 = 4 pi / 3, int x^2 y^2 = 4 pi / 15, int x = 0
        double w = 4 * Math.PI / m, tol = 8 * Math.PI / m;
        Assert.True(Math.Abs(4 * Math.PI / 3 - dirs.Sum(d => w * d.Z * d.Z)) < tol);
        Assert.True(Math.Abs(4 * Math.PI / 15 - dirs.Sum(d => w * d.X * d.X * d.Y * d.Y)) < tol);
        Assert.True(Math.Abs(dirs.Sum(d => w * d.X)) < tol);
    }

    [Fact]
    public void InPlaneAnglesAreHalfStepOffsetWithWeightsSummingToOne()
    {
        var level = QuadratureLevel.Create(new QuadratureSpec(N, Psize, 0.05));
        int m = level.InPlaneAngles.Length;
        Assert.Equal(113, m);
        for (int k = 0; k < m; k++) Assert.Equal(2 * Math.PI * k / m + Math.PI / m, level.InPlaneAngles[k], 12);
        double sum = 0;
        foreach (double lw in level.InPlaneLogWeights) sum += Math.Exp(lw);
        Assert.Equal(1, sum, 12);
    }

    [Theory]
    [InlineData(ShiftRule.Hermite)]
    [InlineData(ShiftRule.Legendre)]
    [InlineData(ShiftRule.Grid)]
    public void ShiftsLieInsideTheExtentWithNormalisedPriorWeights(ShiftRule rule)
    {
        var spec = new QuadratureSpec(N, Psize, 0.08) { ShiftRule = rule, ShiftSamplesPerPeriod = 2 };
        var level = QuadratureLevel.Create(spec);
        double extent = spec.ShiftExtentAngst / Psize, sigma = spec.ShiftSigmaAngst / Psize, sum = 0, heaviest = double.NegativeInfinity;
        for (int i = 0; i < level.Shifts.Length; i++)
        {
            var s = level.Shifts[i];
            Assert.True(s.X * s.X + s.Y * s.Y <= extent * extent * (1 + 1e-9));
            sum += Math.Exp(level.ShiftLogWeights[i]);
            heaviest = Math.Max(heaviest, level.ShiftLogWeights[i]);
            Assert.True(level.ShiftResolution[i] > 0);
        }
        Assert.Equal(1, sum, 12);
        int centre = level.Shifts.ToArray().ToList().FindIndex(s => s.X == 0 && s.Y == 0);
        Assert.True(centre >= 0, "odd degrees put a node at zero shift");
        Assert.Equal(heaviest, level.ShiftLogWeights[centre], 12);
        // the weights follow the Gaussian prior: second moment per axis close to sigma^2 (truncation at E = 6 sigma is negligible)
        double m2 = 0;
        for (int i = 0; i < level.Shifts.Length; i++) m2 += Math.Exp(level.ShiftLogWeights[i]) * level.Shifts[i].X * level.Shifts[i].X;
        Assert.Equal(sigma * sigma, m2, 1);
    }

    [Fact]
    public void TheGridRuleSpacesNodesEvenlySoEveryShiftIsWithinHalfASpacingOfOne()
    {
        var spec = new QuadratureSpec(N, Psize, 0.1) { ShiftRule = ShiftRule.Grid, ShiftSamplesPerPeriod = 2, ShiftSigmaAngst = 6, ShiftExtentAngst = 18 };
        var level = QuadratureLevel.Create(spec);
        double extent = 18 / Psize, step = extent / ((level.ShiftPointsPerAxis - 1) / 2);
        var xs = level.Shifts.ToArray().Select(t => t.X).Distinct().OrderBy(v => v).ToArray();
        Assert.Equal(level.ShiftPointsPerAxis, xs.Length);
        for (int i = 1; i < xs.Length; i++) Assert.Equal(step, xs[i] - xs[i - 1], 9);
        // the spacing is the sizing formula's: one period of w* over the samples per period, in px
        Assert.Equal(N / (0.1 * N * Psize) / 2, step, 0);
        // every node of the square grid inside the disc is there, and nothing else
        int expected = 0;
        for (int iy = 0; iy < xs.Length; iy++)
            for (int ix = 0; ix < xs.Length; ix++)
                if (xs[ix] * xs[ix] + xs[iy] * xs[iy] <= extent * extent * (1 + 1e-9)) expected++;
        Assert.Equal(expected, level.Shifts.Length);
        // weights: the Gaussian prior, relative to the centre
        int centre = level.Shifts.ToArray().ToList().FindIndex(t => t.X == 0 && t.Y == 0);
        for (int i = 0; i < level.Shifts.Length; i++)
        {
            var t = level.Shifts[i];
            Assert.Equal(-(t.X * t.X + t.Y * t.Y) / (2 * Math.Pow(6 / Psize, 2)), level.ShiftLogWeights[i] - level.ShiftLogWeights[centre], 9);
        }
    }

    [Fact]
    public void GaussRulesIntegratePolynomialsExactly()
    {
        var (x, w) = GaussRules.Hermite(9);
        Assert.Equal(Math.Sqrt(Math.PI), w.Sum(), 12);
        Assert.Equal(Math.Sqrt(Math.PI) / 2, x.Select((v, i) => w[i] * v * v).Sum(), 12);
        Assert.Equal(3 * Math.Sqrt(Math.PI) / 4, x.Select((v, i) => w[i] * Math.Pow(v, 4)).Sum(), 12);
        Assert.Equal(105 * Math.Sqrt(Math.PI) / 16, x.Select((v, i) => w[i] * Math.Pow(v, 8)).Sum(), 9);
        var (y, u) = GaussRules.Legendre(7);
        Assert.Equal(2, u.Sum(), 12);
        Assert.Equal(2.0 / 13, y.Select((v, i) => u[i] * Math.Pow(v, 12)).Sum(), 12);
        // large degrees used late in a run stay well-conditioned
        var (big, bw) = GaussRules.Hermite(73);
        Assert.Equal(Math.Sqrt(Math.PI), bw.Sum(), 9);
        Assert.True(big.Zip(big.Skip(1)).All(p => p.First < p.Second));
    }

    private sealed class NorthernHemisphere : ISymmetryRestriction
    {
        public string Name => "test";
        public int Order => 2;
        public bool ContainsDirection(UnitVector d) => d.Z >= 0;
    }

    [Fact]
    public void SymmetryRestrictionKeepsTheAsymmetricUnitAndRescalesTo4Pi()
    {
        var full = QuadratureLevel.Create(new QuadratureSpec(64, 3.0, 0.05));
        var half = QuadratureLevel.Create(new QuadratureSpec(64, 3.0, 0.05) { Symmetry = new NorthernHemisphere() });
        Assert.Equal(full.FullSphereDirectionCount, half.FullSphereDirectionCount);
        Assert.InRange(half.Directions.Length, full.Directions.Length / 2 - 1, full.Directions.Length / 2 + 1);
        double sum = 0;
        foreach (double lw in half.DirectionLogWeights) sum += Math.Exp(lw);
        Assert.Equal(4 * Math.PI, sum, 9);
        foreach (var d in half.Directions) Assert.True(d.Z >= 0);
        Assert.Equal("C1", full.Spec.Symmetry.Name);
    }
}
