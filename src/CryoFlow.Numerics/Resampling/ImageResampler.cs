using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Resampling;

/// <summary>
/// Changes the sampling of square images by cropping (or zero-padding) their transform, as
/// <see cref="FourierResampler"/> does for volumes: the physical extent stays, the pixel size becomes
/// (old pixel size) x D0 / D1 and a constant image stays the same constant. Down-sampling is RELION's
/// (<c>relion_preprocess --scale</c>: resizeMap, windowFourierTransform in 3dem/relion src/fftw.h): frequencies
/// |kx|, |ky| &lt;= D1/2 are kept, the output's Nyquist row taking the input's +D1/2 row and its Nyquist column
/// the input's D1/2 column, read back as a real inverse transform reads them (real parts of self-conjugate
/// values); so extraction with --bin matches RELION's pixel for pixel. Up-sampling zero-pads and leaves the
/// input's Nyquist line out. Thread-safe with one <see cref="Workspace"/> per thread; no allocation per image.
/// </summary>
public sealed class ImageResampler
{
    private readonly IFft2D _from, _to;
    private readonly float _scale;

    /// <param name="fromBox">D0, even</param>
    /// <param name="toBox">D1, even</param>
    /// <param name="backend">FFT backend; default <see cref="FftBackends.Default"/></param>
    public ImageResampler(int fromBox, int toBox, IFftBackend? backend = null)
    {
        FourierLayout.ValidateBoxSize(fromBox);
        FourierLayout.ValidateBoxSize(toBox);
        var fft = backend ?? FftBackends.Default;
        _from = fft.Plan2D(fromBox);
        _to = fft.Plan2D(toBox);
        FromBox = fromBox;
        ToBox = toBox;
        // unitary transforms: coefficients scale by sqrt(N1 / N0) = D1 / D0 to keep real-space values
        _scale = (float)toBox / fromBox;
    }

    public int FromBox { get; }

    public int ToBox { get; }

    /// <summary>Per-thread scratch: both half-planes.</summary>
    public sealed class Workspace
    {
        internal Workspace(ImageResampler r)
        {
            From = new float[r._from.ComplexLength];
            To = new float[r._to.ComplexLength];
        }

        internal float[] From { get; }
        internal float[] To { get; }
    }

    public Workspace CreateWorkspace() => new(this);

    /// <param name="image">D0 x D0 floats, [y][x]</param>
    /// <param name="result">receives D1 x D1 floats; may not overlap <paramref name="image"/></param>
    /// <param name="ws">this thread's workspace</param>
    public void Resample(ReadOnlySpan<float> image, Span<float> result, Workspace ws)
    {
        if (image.Length != FromBox * FromBox) throw new ArgumentException($"image has {image.Length} floats, expected {FromBox}^2", nameof(image));
        if (result.Length != ToBox * ToBox) throw new ArgumentException($"result has {result.Length} floats, expected {ToBox}^2", nameof(result));
        if (FromBox == ToBox)
        {
            image.CopyTo(result);
            return;
        }
        _from.Forward(image, ws.From);
        Array.Clear(ws.To);
        int h0 = FourierLayout.HalfWidth(FromBox), h1 = FourierLayout.HalfWidth(ToBox);
        int limit = Math.Min(FromBox, ToBox) / 2;
        // down-sampling keeps the output's Nyquist line (ky = +D1/2 lands in the -D1/2 row: the same samples)
        int last = ToBox < FromBox ? limit : limit - 1;
        for (int ky = -limit + 1; ky <= last; ky++)
        {
            int r0 = 2 * FourierLayout.RowOfFrequency(ky, FromBox) * h0, r1 = 2 * (ky == limit ? limit : FourierLayout.RowOfFrequency(ky, ToBox)) * h1;
            for (int kx = 0; kx <= last; kx++)
            {
                ws.To[r1 + 2 * kx] = ws.From[r0 + 2 * kx] * _scale;
                ws.To[r1 + 2 * kx + 1] = ws.From[r0 + 2 * kx + 1] * _scale;
            }
        }
        _to.Inverse(ws.To, result);
    }
}
