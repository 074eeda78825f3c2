using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Projection;

/// <summary>
/// In-plane rotation of an image in Fourier space, by interpolating the image's own (optionally premultiplied and
/// 2x zero-padded) 2D transform at rotated frequencies: rotated_j = I(R2(psi) k_j) with
/// R2(psi) = [[cos psi, sin psi], [-sin psi, cos psi]], the 2x2 block of RELION's Rz(psi).
/// <para>Why this rotation: the pose A = Euler(rot, tilt, psi) = Rz(psi) A0 with A0 = Euler(rot, tilt, 0) has
/// slice S_A(k) = S_A0(R2(psi)^T k). So |I(k) - C(k) S_A(k)|^2 summed over the disc equals the same sum of
/// |I_psi(k) - C_psi(k) S_A0(k)|^2 with I_psi = Rotate(I, psi) and C_psi the CTF at R2(psi) k
/// (<c>CtfEvaluator.EvaluateDisc(..., psi)</c>): one slice per direction serves every in-plane angle.</para>
/// <para>Scaling: rotated values are multiplied by p, so that with psi = 0 they reproduce the D-box transform.
/// Adjoints are with respect to &lt;.,.&gt;_m on the disc and the weighted half-plane inner product on
/// <see cref="FourierImage"/>. <see cref="Rotate"/> and <see cref="RotateAdjointAdd"/> are thread-safe (one accumulator
/// per worker); <see cref="Prepare"/> is thread-safe for distinct destinations.</para>
/// </summary>
public sealed class ImageRotator
{
    private readonly IFft2D _fftPadded, _fftBox;
    private readonly float[]? _premult;

    /// <param name="boxSize">D, even</param>
    /// <param name="options">oversampling 1 or 2, premultiplication, kernel (the reference code uses a Lanczos a = 4 kernel with p = 2; linear with p = 2 and premultiplication is as accurate here)</param>
    /// <param name="backend">FFT backend; <see cref="FftBackends.Default"/> when null</param>
    public ImageRotator(int boxSize, ProjectorOptions options, IFftBackend? backend = null)
    {
        FourierLayout.ValidateBoxSize(boxSize);
        options.Validate();
        BoxSize = boxSize;
        Options = options;
        PaddedSize = boxSize * options.Oversampling;
        var b = backend ?? FftBackends.Default;
        _fftPadded = b.Plan2D(PaddedSize);
        _fftBox = b.Plan2D(boxSize);
        _premult = options.Premultiply ? KernelMath.Premultiplier(options.Kernel, boxSize, PaddedSize) : null;
    }

    public int BoxSize { get; }

    public int PaddedSize { get; }

    public ProjectorOptions Options { get; }

    /// <summary>A zeroed image transform on the padded grid (also usable as an adjoint accumulator).</summary>
    public FourierImage CreateImage() => new(BoxSize, Options.Oversampling);

    /// <summary>Premultiply, pad and transform a real image.</summary>
    /// <param name="image">D x D floats, [y][x], centre pixel D/2</param>
    public void Prepare(ReadOnlySpan<float> image, FourierImage destination)
    {
        CheckImage(destination);
        if (image.Length != BoxSize * BoxSize) throw new ArgumentException($"image has {image.Length} floats, expected D^2", nameof(image));
        if (Options.Oversampling == 1 && _premult is null)
        {
            _fftPadded.Forward(image, destination.Values);
            return;
        }
        var padded = destination.Scratch;
        Array.Clear(padded);
        int d = BoxSize, dp = PaddedSize, o = (dp - d) / 2;
        for (int y = 0; y < d; y++)
        {
            var src = image.Slice(y * d, d);
            var dst = padded.AsSpan((y + o) * dp + o, d);
            if (_premult is null) { src.CopyTo(dst); continue; }
            float gy = _premult[y];
            for (int x = 0; x < d; x++) dst[x] = src[x] * gy * _premult[x];
        }
        _fftPadded.Forward(padded, destination.Values);
    }

    /// <summary>Prepare from the image's D x (D/2+1) transform (inverse FFT, then <see cref="Prepare"/>).</summary>
    /// <param name="halfPlane">2 * D * (D/2+1) floats</param>
    public void PrepareFromTransform(ReadOnlySpan<float> halfPlane, FourierImage destination)
    {
        CheckImage(destination);
        if (Options.Oversampling == 1 && _premult is null)
        {
            halfPlane.CopyTo(destination.Values);
            return;
        }
        var image = destination.BoxScratch;
        _fftBox.Inverse(halfPlane, image);
        Prepare(image, destination);
    }

    /// <summary>Adjoint of <see cref="Prepare"/>: inverse FFT, crop, premultiply.</summary>
    /// <param name="accumulator">padded half-plane values (not modified)</param>
    /// <param name="imageGradient">receives D x D floats</param>
    public void PrepareAdjoint(FourierImage accumulator, Span<float> imageGradient)
    {
        CheckImage(accumulator);
        if (imageGradient.Length != BoxSize * BoxSize) throw new ArgumentException("expected D^2 floats", nameof(imageGradient));
        if (Options.Oversampling == 1 && _premult is null)
        {
            _fftPadded.Inverse(accumulator.Values, imageGradient);
            return;
        }
        var padded = accumulator.Scratch;
        _fftPadded.Inverse(accumulator.Values, padded);
        int d = BoxSize, dp = PaddedSize, o = (dp - d) / 2;
        for (int y = 0; y < d; y++)
        {
            var src = padded.AsSpan((y + o) * dp + o, d);
            var dst = imageGradient.Slice(y * d, d);
            if (_premult is null) { src.CopyTo(dst); continue; }
            float gy = _premult[y];
            for (int x = 0; x < d; x++) dst[x] = src[x] * gy * _premult[x];
        }
    }

    /// <summary>rotated_j = I(R2(psi) k_j), interpolated, for every disc point.</summary>
    /// <param name="image">from <see cref="Prepare"/></param>
    /// <param name="disc">points k (BoxSize D)</param>
    /// <param name="psiRad">in-plane angle, radians</param>
    /// <param name="rotated">receives 2*disc.Count floats</param>
    public void Rotate(FourierImage image, FourierDisc disc, double psiRad, Span<float> rotated)
    {
        CheckImage(image);
        CheckDisc(disc, rotated.Length);
        ReadOnlySpan<float> v = image.Values;
        Span<int> index = stackalloc int[FourierInterpolation.MaxTaps2D];
        Span<float> weight = stackalloc float[FourierInterpolation.MaxTaps2D];
        Span<float> sign = stackalloc float[FourierInterpolation.MaxTaps2D];
        Span<float> herm = stackalloc float[FourierInterpolation.MaxTaps2D];
        Span<float> axis = stackalloc float[2 * KernelMath.MaxTaps];
        double p = Options.Oversampling, c = p * Math.Cos(psiRad), s = p * Math.Sin(psiRad);
        var kx = disc.Kx;
        var ky = disc.Ky;
        float scale = Options.Oversampling;
        for (int j = 0; j < disc.Count; j++)
        {
            int n = FourierInterpolation.Taps2D(Options.Kernel, PaddedSize, c * kx[j] + s * ky[j], -s * kx[j] + c * ky[j], index, weight, sign, herm, axis);
            float re = 0, im = 0;
            for (int t = 0; t < n; t++)
            {
                int i = 2 * index[t];
                re += weight[t] * v[i];
                im += weight[t] * sign[t] * v[i + 1];
            }
            rotated[2 * j] = scale * re;
            rotated[2 * j + 1] = scale * im;
        }
    }

    /// <summary>Adjoint of <see cref="Rotate"/>, added into <paramref name="accumulator"/>.</summary>
    /// <param name="rotated">2*disc.Count floats</param>
    public void RotateAdjointAdd(ReadOnlySpan<float> rotated, FourierDisc disc, double psiRad, FourierImage accumulator)
    {
        CheckImage(accumulator);
        CheckDisc(disc, rotated.Length);
        Span<float> acc = accumulator.Values;
        Span<int> index = stackalloc int[FourierInterpolation.MaxTaps2D];
        Span<float> weight = stackalloc float[FourierInterpolation.MaxTaps2D];
        Span<float> sign = stackalloc float[FourierInterpolation.MaxTaps2D];
        Span<float> herm = stackalloc float[FourierInterpolation.MaxTaps2D];
        Span<float> axis = stackalloc float[2 * KernelMath.MaxTaps];
        double p = Options.Oversampling, c = p * Math.Cos(psiRad), s = p * Math.Sin(psiRad);
        var kx = disc.Kx;
        var ky = disc.Ky;
        var m = disc.Multiplicity;
        for (int j = 0; j < disc.Count; j++)
        {
            int n = FourierInterpolation.Taps2D(Options.Kernel, PaddedSize, c * kx[j] + s * ky[j], -s * kx[j] + c * ky[j], index, weight, sign, herm, axis);
            float f = Options.Oversampling * m[j];
            float yr = rotated[2 * j] * f, yi = rotated[2 * j + 1] * f;
            for (int t = 0; t < n; t++)
            {
                int i = 2 * index[t];
                float w = weight[t] / herm[t];
                acc[i] += w * yr;
                acc[i + 1] += w * sign[t] * yi;
            }
        }
    }

    private void CheckImage(FourierImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.BoxSize != BoxSize || image.Oversampling != Options.Oversampling)
            throw new ArgumentException($"Fourier image is D = {image.BoxSize}, p = {image.Oversampling}; rotator is D = {BoxSize}, p = {Options.Oversampling}");
    }

    private void CheckDisc(FourierDisc disc, int length)
    {
        ArgumentNullException.ThrowIfNull(disc);
        if (disc.BoxSize != BoxSize) throw new ArgumentException($"disc is for D = {disc.BoxSize}, rotator for D = {BoxSize}", nameof(disc));
        if (length != 2 * disc.Count) throw new ArgumentException($"disc values have {length} floats, expected {2 * disc.Count}");
    }
}
