using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Projection;

/// <summary>
/// The half-space transform of a (premultiplied, zero-padded) D^3 volume on the padded grid Dp = p*D:
/// interleaved complex, <c>Dp x Dp x (Dp/2+1)</c>, layout as <see cref="FourierLayout"/>. Produced by
/// <see cref="VolumeProjector.Transform"/>; also used as the accumulator of slice adjoints (gradients), whose
/// values are in the same units so that <see cref="VolumeProjector.TransformAdjoint"/> maps them to real space.
/// </summary>
public sealed class FourierVolume
{
    private readonly float[] _values;

    internal FourierVolume(int boxSize, int oversampling)
    {
        BoxSize = boxSize;
        Oversampling = oversampling;
        PaddedSize = boxSize * oversampling;
        _values = new float[checked(2 * FourierLayout.HalfSpaceLength(PaddedSize))];
    }

    /// <summary>Box size D of the real-space volume.</summary>
    public int BoxSize { get; }

    /// <summary>Zero-padding factor p.</summary>
    public int Oversampling { get; }

    /// <summary>Dp = p*D, the transform's grid size.</summary>
    public int PaddedSize { get; }

    /// <summary>2 * Dp * Dp * (Dp/2+1) floats.</summary>
    public Span<float> Values => _values;

    /// <summary>Set every coefficient to zero.</summary>
    public void Clear() => Array.Clear(_values);
}
