namespace CryoFlow.Numerics.Fourier;

/// <summary>
/// A source of real-to-complex FFT plans with CryoFlow's conventions (<see cref="FourierLayout"/>:
/// unitary, phase origin at pixel D/2, half-plane storage, interleaved float complex).
/// Backends cache plans by size; plans live as long as the backend and are never disposed by callers.
/// </summary>
public interface IFftBackend
{
    /// <summary>Short name for logs and benchmarks ("managed", "fftw").</summary>
    string Name { get; }

    /// <summary>A 2D plan for D x D images (D even).</summary>
    IFft2D Plan2D(int boxSize);

    /// <summary>A 3D plan for D x D x D volumes (D even).</summary>
    IFft3D Plan3D(int boxSize);
}

/// <summary>
/// A reusable real-to-complex transform of fixed size. Plans are immutable; every method may be called
/// concurrently from any number of threads with distinct buffers (per-thread scratch is held internally
/// and allocated once per thread). Inputs are never modified.
/// </summary>
public interface IRealFft
{
    /// <summary>Box size D.</summary>
    int BoxSize { get; }

    /// <summary>Number of dimensions, 2 or 3.</summary>
    int Rank { get; }

    /// <summary>Floats in the real array, D^Rank.</summary>
    int RealLength { get; }

    /// <summary>Floats in the half-plane/half-space array: 2 * D^(Rank-1) * (D/2+1).</summary>
    int ComplexLength { get; }

    /// <summary>Forward unitary transform.</summary>
    /// <param name="real">D^Rank floats, x fastest</param>
    /// <param name="halfComplex">receives 2 * D^(Rank-1) * (D/2+1) floats, interleaved complex, <see cref="FourierLayout"/></param>
    void Forward(ReadOnlySpan<float> real, Span<float> halfComplex);

    /// <summary>
    /// Inverse unitary transform: the real array whose transform is the Hermitian extension of the input.
    /// For inputs that are not Hermitian-consistent it is the exact adjoint of <see cref="Forward"/> under
    /// the weighted inner product of <see cref="FourierLayout"/> (it reads Re of the self-conjugate values and
    /// the average of each conjugate pair stored twice in the kx = 0 and kx = D/2 columns).
    /// </summary>
    /// <param name="halfComplex">2 * D^(Rank-1) * (D/2+1) floats, interleaved complex; not modified</param>
    /// <param name="real">receives D^Rank floats</param>
    void Inverse(ReadOnlySpan<float> halfComplex, Span<float> real);
}

/// <summary>A 2D plan: real <c>[y][x]</c> (D x D) to half-plane <c>[ky][kx]</c> (D x (D/2+1)).</summary>
public interface IFft2D : IRealFft;

/// <summary>A 3D plan: real <c>[z][y][x]</c> (D^3) to half-space <c>[kz][ky][kx]</c> (D x D x (D/2+1)).</summary>
public interface IFft3D : IRealFft;
