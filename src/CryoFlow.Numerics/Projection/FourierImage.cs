using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Projection;

/// <summary>
/// The half-plane transform of a (premultiplied, zero-padded) D x D image on the padded grid Dp = p*D:
/// interleaved complex, <c>Dp x (Dp/2+1)</c>, layout as <see cref="FourierLayout"/>. Produced by
/// <see cref="ImageRotator.Prepare"/>; carries its own real-space scratch so that one instance per worker makes
/// preparation thread-safe.
/// </summary>
public sealed class FourierImage
{
    private readonly float[] _values;
    private float[]? _scratch;
    private float[]? _boxScratch;

    internal FourierImage(int boxSize, int oversampling)
    {
        BoxSize = boxSize;
        Oversampling = oversampling;
        PaddedSize = boxSize * oversampling;
        _values = new float[2 * FourierLayout.HalfPlaneLength(PaddedSize)];
    }

    /// <summary>Box size D of the real-space image.</summary>
    public int BoxSize { get; }

    /// <summary>Zero-padding factor p.</summary>
    public int Oversampling { get; }

    /// <summary>Dp = p*D.</summary>
    public int PaddedSize { get; }

    /// <summary>2 * Dp * (Dp/2+1) floats.</summary>
    public Span<float> Values => _values;

    internal float[] Scratch => _scratch ??= new float[PaddedSize * PaddedSize];

    internal float[] BoxScratch => _boxScratch ??= new float[BoxSize * BoxSize];

    /// <summary>Set every coefficient to zero.</summary>
    public void Clear() => Array.Clear(_values);
}
