using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Tests.Fourier;

public class FftBackendTests
{
    /// <summary>F(k) = N^-1/2 sum_x f(x) exp(-2 pi i k.(x - D/2)/D), k signed, straight from the definition.</summary>
    private static (double Re, double Im) NaiveDft(float[] f, int d, int rank, int kx, int ky, int kz)
    {
        double re = 0, im = 0, c = d / 2.0;
        int nz = rank == 3 ? d : 1;
        for (int z = 0; z < nz; z++)
            for (int y = 0; y < d; y++)
                for (int x = 0; x < d; x++)
                {
                    double phase = -2 * Math.PI * (kx * (x - c) + ky * (y - c) + (rank == 3 ? kz * (z - c) : 0)) / d;
                    double v = f[(z * d + y) * d + x];
                    re += v * Math.Cos(phase);
                    im += v * Math.Sin(phase);
                }
        double s = 1 / Math.Sqrt(Math.Pow(d, rank));
        return (re * s, im * s);
    }

    private static IRealFft Plan(IFftBackend b, int rank, int d) => rank == 2 ? b.Plan2D(d) : b.Plan3D(d);

    public static TheoryData<string, int, int> Cases()
    {
        var t = new TheoryData<string, int, int>();
        foreach (string b in new[] { "managed", "fftw" })
        {
            foreach (int d in new[] { 2, 4, 6, 8, 16, 32 }) t.Add(b, 2, d);
            foreach (int d in new[] { 2, 4, 6, 8, 16 }) t.Add(b, 3, d);
        }
        return t;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesNaiveDftWithOriginAtHalfBox(string backend, int rank, int d)
    {
        var plan = Plan(Backends.Get(backend), rank, d);
        var f = Backends.RandomReal(plan.RealLength, 100 + d);
        var F = new float[plan.ComplexLength];
        plan.Forward(f, F);
        int h = d / 2 + 1;
        double maxErr = 0, maxAbs = 0;
        int nz = rank == 3 ? d : 1;
        for (int rz = 0; rz < nz; rz++)
            for (int ry = 0; ry < d; ry++)
                for (int c = 0; c < h; c++)
                {
                    int kz = FourierLayout.FrequencyOfRow(rz, d), ky = FourierLayout.FrequencyOfRow(ry, d);
                    var (re, im) = NaiveDft(f, d, rank, c, ky, kz);
                    int i = 2 * ((rz * d + ry) * h + c);
                    maxErr = Math.Max(maxErr, Math.Max(Math.Abs(F[i] - re), Math.Abs(F[i + 1] - im)));
                    maxAbs = Math.Max(maxAbs, Math.Sqrt(re * re + im * im));
                }
        Assert.True(maxErr <= 2e-6 * maxAbs, $"max error {maxErr:E2} vs max |F| {maxAbs:E2}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RoundTripRestoresTheInputTo1e6(string backend, int rank, int d)
    {
        var plan = Plan(Backends.Get(backend), rank, d);
        var f = Backends.RandomReal(plan.RealLength, 200 + d);
        var F = new float[plan.ComplexLength];
        var back = new float[plan.RealLength];
        plan.Forward(f, F);
        var copy = (float[])F.Clone();
        plan.Inverse(F, back);
        Assert.Equal(copy, F); // the inverse leaves its input alone
        double err = 0, norm = 0;
        for (int i = 0; i < f.Length; i++) { err += Math.Pow(back[i] - f[i], 2); norm += f[i] * (double)f[i]; }
        Assert.True(Math.Sqrt(err / norm) < 1e-6, $"relative round-trip error {Math.Sqrt(err / norm):E2}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ParsevalHoldsWithHermitianWeights(string backend, int rank, int d)
    {
        var plan = Plan(Backends.Get(backend), rank, d);
        var f = Backends.RandomReal(plan.RealLength, 300 + d);
        var F = new float[plan.ComplexLength];
        plan.Forward(f, F);
        double real = f.Sum(v => (double)v * v);
        double fourier = FourierLayout.WeightedInnerProduct(F, F, d);
        Assert.True(Math.Abs(real - fourier) <= 1e-6 * real, $"sum f^2 = {real}, sum w |F|^2 = {fourier}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DoublyStoredColumnsAreHermitianConsistent(string backend, int rank, int d)
    {
        var plan = Plan(Backends.Get(backend), rank, d);
        var F = new float[plan.ComplexLength];
        plan.Forward(Backends.RandomReal(plan.RealLength, 400 + d), F);
        int h = d / 2 + 1, nz = rank == 3 ? d : 1;
        double scale = Math.Sqrt(FourierLayout.WeightedInnerProduct(F, F, d) / F.Length);
        foreach (int c in new[] { 0, d / 2 })
            for (int rz = 0; rz < nz; rz++)
                for (int ry = 0; ry < d; ry++)
                {
                    int i = 2 * ((rz * d + ry) * h + c);
                    int j = 2 * ((((nz - rz) % nz) * d + (d - ry) % d) * h + c);
                    Assert.True(Math.Abs(F[i] - F[j]) < 1e-5 * scale && Math.Abs(F[i + 1] + F[j + 1]) < 1e-5 * scale,
                        $"F at column {c}, rows ({rz},{ry}) is not the conjugate of its partner");
                }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InverseIsTheAdjointOfForwardForAnyHalfComplexInput(string backend, int rank, int d)
    {
        // Holds for inputs that are not Hermitian-consistent too: the inverse averages doubly stored pairs.
        var plan = Plan(Backends.Get(backend), rank, d);
        var x = Backends.RandomReal(plan.RealLength, 500 + d);
        var y = Backends.RandomReal(plan.ComplexLength, 600 + d);
        var fx = new float[plan.ComplexLength];
        var fty = new float[plan.RealLength];
        plan.Forward(x, fx);
        plan.Inverse(y, fty);
        double lhs = FourierLayout.WeightedInnerProduct(fx, y, d);
        double rhs = 0;
        for (int i = 0; i < x.Length; i++) rhs += (double)x[i] * fty[i];
        Assert.True(Math.Abs(lhs - rhs) <= 1e-5 * Math.Sqrt(x.Sum(v => (double)v * v) * y.Sum(v => (double)v * v)), $"{lhs} vs {rhs}");
    }

    [Theory]
    [InlineData(2, 8)]
    [InlineData(2, 6)]
    [InlineData(3, 16)]
    [InlineData(3, 6)]
    public void BackendsAgreeForwardAndInverse(int rank, int d)
    {
        var fftw = Backends.Get("fftw");
        var pm = Plan(FftBackends.Managed, rank, d);
        var pf = Plan(fftw, rank, d);
        var f = Backends.RandomReal(pm.RealLength, 700 + d);
        var a = new float[pm.ComplexLength];
        var b = new float[pm.ComplexLength];
        pm.Forward(f, a);
        pf.Forward(f, b);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) < 1e-5, $"forward differs at {i}: {a[i]} vs {b[i]}");
        var y = Backends.RandomReal(pm.ComplexLength, 800 + d); // not Hermitian-consistent
        var ra = new float[pm.RealLength];
        var rb = new float[pm.RealLength];
        pm.Inverse(y, ra);
        pf.Inverse(y, rb);
        for (int i = 0; i < ra.Length; i++) Assert.True(Math.Abs(ra[i] - rb[i]) < 1e-5, $"inverse differs at {i}: {ra[i]} vs {rb[i]}");
    }

    [Theory]
    [MemberData(nameof(Backends.Names), MemberType = typeof(Backends))]
    public void DeltaAtTheBoxCentreHasAFlatRealTransform(string backend)
    {
        const int d = 8;
        var plan = Backends.Get(backend).Plan3D(d);
        var f = new float[plan.RealLength];
        f[(d / 2 * d + d / 2) * d + d / 2] = 1;
        var F = new float[plan.ComplexLength];
        plan.Forward(f, F);
        float expected = (float)(1 / Math.Sqrt(d * d * d));
        for (int i = 0; i < F.Length; i += 2)
        {
            Assert.Equal(expected, F[i], 6);
            Assert.Equal(0, F[i + 1], 6);
        }
    }

    [Theory]
    [MemberData(nameof(Backends.Names), MemberType = typeof(Backends))]
    public void PlansGiveIdenticalResultsFromParallelWorkers(string backend)
    {
        const int d = 32, n = 24;
        var plan = Backends.Get(backend).Plan2D(d);
        var inputs = Enumerable.Range(0, n).Select(i => Backends.RandomReal(plan.RealLength, 900 + i)).ToArray();
        var serial = inputs.Select(x => { var o = new float[plan.ComplexLength]; plan.Forward(x, o); return o; }).ToArray();
        var parallel = new float[n][];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var o = new float[plan.ComplexLength];
            var back = new float[plan.RealLength];
            for (int rep = 0; rep < 5; rep++)
            {
                plan.Forward(inputs[i], o);
                plan.Inverse(o, back);
            }
            parallel[i] = o;
        });
        for (int i = 0; i < n; i++) Assert.Equal(serial[i], parallel[i]);
    }

    [Fact]
    public void OddBoxSizesAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FftBackends.Managed.Plan2D(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => FftBackends.Managed.Plan3D(0));
    }

    [Fact]
    public void DefaultSelectionHonoursTheEnvironmentSetting()
    {
        Assert.Same(FftBackends.Managed, FftBackends.Select("managed"));
        Assert.Same(FftBackends.Fftw ?? FftBackends.Managed, FftBackends.Select(null));
        Assert.Throws<ArgumentException>(() => FftBackends.Select("cufft"));
    }

    [Fact]
    public void FftwLoadsOnThisMachineWhenTheLibraryIsInstalled()
    {
        bool installed = File.Exists("/usr/lib/x86_64-linux-gnu/libfftw3f.so.3");
        if (!installed) Assert.Skip("libfftw3f.so.3 not installed");
        Assert.True(FftwBackend.IsAvailable);
    }
}
