using CryoFlow.Numerics.Fourier;

namespace CryoFlow.Numerics.Evaluation;

/// <summary>Fourier-space filters of whole maps.</summary>
public static class MapFilter
{
    /// <summary>
    /// A Gaussian low-pass by a B-factor: every Fourier coefficient at spatial frequency s (1/Å) is multiplied by
    /// exp(-B s^2 / 4), the amplitude envelope of a temperature factor B (Å^2). B = 0 returns a copy; the mean is kept.
    /// </summary>
    /// <param name="volume">D^3 floats, [z][y][x]</param>
    /// <param name="voxelSize">Å per voxel</param>
    /// <param name="bfactor">B &gt;= 0, Å^2</param>
    /// <param name="fft">FFT backend; default <see cref="FftBackends.Default"/></param>
    public static float[] ApplyBFactor(ReadOnlySpan<float> volume, int boxSize, double voxelSize, double bfactor, IFftBackend? fft = null)
    {
        FourierLayout.ValidateBoxSize(boxSize);
        long n = (long)boxSize * boxSize * boxSize;
        if (volume.Length != n) throw new ArgumentException($"the map must have {n} voxels (box {boxSize}); found {volume.Length}", nameof(volume));
        if (!(voxelSize > 0)) throw new ArgumentOutOfRangeException(nameof(voxelSize), voxelSize, "voxel size must be positive");
        if (!(bfactor >= 0) || double.IsInfinity(bfactor)) throw new ArgumentOutOfRangeException(nameof(bfactor), bfactor, "B must be finite and >= 0");
        var result = volume.ToArray();
        if (bfactor == 0) return result;
        var plan = (fft ?? FftBackends.Default).Plan3D(boxSize);
        var half = new float[plan.ComplexLength];
        plan.Forward(result, half);
        // s^2 = |k|^2 / (D apix)^2
        double perPixel2 = -bfactor / (4.0 * boxSize * boxSize * voxelSize * voxelSize);
        for (int i = 0; i < half.Length / 2; i++)
        {
            float g = (float)Math.Exp(perPixel2 * FourierLayout.HalfSpaceSquaredRadius(i, boxSize));
            half[2 * i] *= g;
            half[2 * i + 1] *= g;
        }
        plan.Inverse(half, result);
        return result;
    }
}
