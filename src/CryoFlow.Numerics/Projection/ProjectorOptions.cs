namespace CryoFlow.Numerics.Projection;

/// <summary>
/// How a transform is prepared for interpolation at off-grid frequencies. Start from <see cref="Default"/>
/// (<c>new ProjectorOptions()</c> is the all-zero struct, which validation refuses).
/// </summary>
/// <param name="Oversampling">zero-padding factor p, 1 or 2: the real-space array is centred in a p*D box before
/// the FFT, so the transform is sampled p times more finely (p^3 more FFT work in 3D)</param>
/// <param name="Premultiply">divide the real-space array by the interpolation kernel's transform before the FFT
/// (grid correction), which undoes the kernel's attenuation towards the box edges</param>
/// <param name="Kernel">interpolation kernel</param>
public readonly record struct ProjectorOptions(int Oversampling = 2, bool Premultiply = true, InterpolationKernel Kernel = InterpolationKernel.Linear)
{
    /// <summary>Oversampled, premultiplied trilinear: the accuracy/cost default for volumes (see the projection tests).</summary>
    public static ProjectorOptions Default => new(2, true, InterpolationKernel.Linear);

    internal void Validate()
    {
        if (Oversampling is not (1 or 2))
            throw new ArgumentOutOfRangeException(nameof(Oversampling), Oversampling, "oversampling must be 1 or 2");
        _ = KernelMath.Taps(Kernel);
    }
}
