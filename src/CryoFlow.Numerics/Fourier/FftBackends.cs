namespace CryoFlow.Numerics.Fourier;

/// <summary>Backend selection.</summary>
public static class FftBackends
{
    /// <summary>Environment variable: "managed" forces the managed backend, "fftw" requires FFTW.</summary>
    public const string EnvironmentVariable = "CRYOFLOW_FFT";

    private static readonly Lazy<IFftBackend> DefaultLazy = new(() => Select(Environment.GetEnvironmentVariable(EnvironmentVariable)));

    /// <summary>FFTW when libfftw3f loads, unless CRYOFLOW_FFT=managed; otherwise the managed backend.</summary>
    public static IFftBackend Default => DefaultLazy.Value;

    /// <summary>The managed backend.</summary>
    public static IFftBackend Managed => ManagedFftBackend.Instance;

    /// <summary>The FFTW backend, or null when libfftw3f is absent.</summary>
    public static IFftBackend? Fftw => FftwBackend.Instance;

    /// <summary>The choice <see cref="Default"/> makes for a given CRYOFLOW_FFT value (null or empty = automatic).</summary>
    public static IFftBackend Select(string? setting)
    {
        switch (setting?.Trim().ToLowerInvariant())
        {
            case null or "" or "auto":
                return FftwBackend.Instance ?? (IFftBackend)ManagedFftBackend.Instance;
            case "managed":
                return ManagedFftBackend.Instance;
            case "fftw":
                return FftwBackend.Instance ?? throw new InvalidOperationException(
                    $"{EnvironmentVariable}=fftw but libfftw3f could not be loaded (install libfftw3-single3)");
            default:
                throw new ArgumentException($"{EnvironmentVariable} must be 'managed', 'fftw' or 'auto', not '{setting}'", nameof(setting));
        }
    }
}
