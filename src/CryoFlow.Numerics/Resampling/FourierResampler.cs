using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Resampling;

/// <summary>
/// Changes the sampling of a cubic volume by cropping or zero-padding its transform: the physical
/// extent stays, the voxel size becomes (old voxel size) x D0 / D1, and voxel values keep their scale
/// (a constant volume stays the same constant). Frequencies on either box's Nyquist plane are
/// dropped, so the result is exactly band-limited and Hermitian.
/// </summary>
public static class FourierResampler
{
    /// <param name="volume">D0^3 voxels, [z][y][x]</param>
    /// <param name="fromBox">D0, even</param>
    /// <param name="toBox">D1, even</param>
    /// <param name="backend">FFT backend; default <see cref="FftBackends.Default"/></param>
    /// <returns>D1^3 voxels</returns>
    public static float[] ResampleVolume(ReadOnlySpan<float> volume, int fromBox, int toBox, IFftBackend? backend = null)
    {
        FourierLayout.ValidateBoxSize(fromBox);
        FourierLayout.ValidateBoxSize(toBox);
        if (volume.Length != (long)fromBox * fromBox * fromBox)
            throw new ArgumentException($"volume has {volume.Length} voxels, expected {fromBox}^3", nameof(volume));
        var fft = backend ?? FftBackends.Default;
        if (fromBox == toBox) return volume.ToArray();
        var p0 = fft.Plan3D(fromBox);
        var p1 = fft.Plan3D(toBox);
        var f0 = new float[p0.ComplexLength];
        var f1 = new float[p1.ComplexLength];
        p0.Forward(volume, f0);
        int h0 = FourierLayout.HalfWidth(fromBox), h1 = FourierLayout.HalfWidth(toBox);
        // keep |kx|, |ky|, |kz| strictly inside both Nyquist limits
        int limit = Math.Min(fromBox, toBox) / 2;
        // unitary transforms: values scale by sqrt(N1 / N0) to keep real-space amplitudes
        float scale = (float)Math.Pow((double)toBox / fromBox, 1.5);
        for (int kz = -limit + 1; kz < limit; kz++)
            for (int ky = -limit + 1; ky < limit; ky++)
                for (int kx = 0; kx < limit; kx++)
                {
                    int i0 = 2 * ((FourierLayout.RowOfFrequency(kz, fromBox) * fromBox + FourierLayout.RowOfFrequency(ky, fromBox)) * h0 + kx);
                    int i1 = 2 * ((FourierLayout.RowOfFrequency(kz, toBox) * toBox + FourierLayout.RowOfFrequency(ky, toBox)) * h1 + kx);
                    f1[i1] = f0[i0] * scale;
                    f1[i1 + 1] = f0[i0 + 1] * scale;
                }
        var result = new float[(long)toBox * toBox * toBox];
        p1.Inverse(f1, result);
        return result;
    }
}
