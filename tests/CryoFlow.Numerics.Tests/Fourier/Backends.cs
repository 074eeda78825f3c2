using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Tests.Fourier;

/// <summary>Backends by name for parameterised tests; FFTW tests skip where libfftw3f is absent.</summary>
internal static class Backends
{
    public static TheoryData<string> Names => new() { "managed", "fftw" };

    public static IFftBackend Get(string name)
    {
        if (name == "managed") return FftBackends.Managed;
        var fftw = FftBackends.Fftw;
        if (fftw is null) Assert.Skip("libfftw3f is not installed");
        return fftw!;
    }

    public static float[] RandomReal(int n, int seed)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
