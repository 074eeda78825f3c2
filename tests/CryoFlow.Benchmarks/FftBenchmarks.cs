using BenchmarkDotNet.Attributes;
using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Benchmarks;

/// <summary>
/// One forward + inverse real transform (unitary, half-plane, CryoFlow conventions) per operation, single thread.
/// Run: dotnet run -c Release --project tests/CryoFlow.Benchmarks -- --filter '*Fft*' --job short
/// </summary>
[MemoryDiagnoser]
public class FftBenchmarks
{
    private IRealFft _plan2D = null!, _plan3D = null!;
    private float[] _real2D = null!, _half2D = null!, _real3D = null!, _half3D = null!;

    /// <summary>managed, fftw (estimate planning) or fftw-measure.</summary>
    [Params("managed", "fftw", "fftw-measure")]
    public string Backend { get; set; } = "managed";

    [Params(128)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        IFftBackend backend = Backend switch
        {
            "managed" => FftBackends.Managed,
            "fftw" => FftwBackend.Instance ?? throw new InvalidOperationException("libfftw3f not installed"),
            _ => FftwBackend.TryCreate(FftwPlanning.Measure) ?? throw new InvalidOperationException("libfftw3f not installed"),
        };
        _plan2D = backend.Plan2D(Size);
        _plan3D = backend.Plan3D(Size);
        var rng = new Random(1);
        _real2D = Enumerable.Range(0, _plan2D.RealLength).Select(_ => (float)rng.NextDouble()).ToArray();
        _real3D = Enumerable.Range(0, _plan3D.RealLength).Select(_ => (float)rng.NextDouble()).ToArray();
        _half2D = new float[_plan2D.ComplexLength];
        _half3D = new float[_plan3D.ComplexLength];
    }

    [Benchmark]
    public void ForwardInverse2D()
    {
        _plan2D.Forward(_real2D, _half2D);
        _plan2D.Inverse(_half2D, _real2D);
    }

    [Benchmark]
    public void ForwardInverse3D()
    {
        _plan3D.Forward(_real3D, _half3D);
        _plan3D.Inverse(_half3D, _real3D);
    }
}
