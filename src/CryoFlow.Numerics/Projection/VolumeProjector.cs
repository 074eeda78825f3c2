using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;

namespace CryoFlow.Numerics.Projection;

/// <summary>
/// Central slices of a D^3 volume's transform and their exact adjoints.
/// <para><b>Forward path</b> (real volume v, D^3 floats [z][y][x], centre voxel D/2):
/// premultiply (optional) -> centre in a Dp = p*D box -> unitary FFT (<see cref="Transform"/>) -> interpolate at
/// q = p * A^T (kx, ky, 0) for each disc point k (<see cref="Project"/>), where A is RELION's matrix
/// (<see cref="EulerAngles.ToMatrix"/>), whose bottom row is the viewing direction.</para>
/// <para><b>Scaling</b>: slices are multiplied by <see cref="SliceScale"/> = sqrt(D) p^(3/2), so that a slice equals
/// the unitary 2D DFT (<see cref="FourierLayout"/>) of the line-integral projection image
/// P(x, y) = sum_z v(A^T (x - D/2, y - D/2, z) + D/2) (a plain sum of voxels along the viewing direction, no
/// pixel-size factor), up to the interpolation error stated in the tests.</para>
/// <para><b>Adjoints</b>: taken with respect to &lt;.,.&gt;_m on the disc (<see cref="FourierDisc"/>), the weighted
/// half-space inner product (<see cref="FourierLayout"/>) on <see cref="FourierVolume"/> and the plain dot product
/// on real volumes. So for a loss L(slice) with dL = &lt;g, d slice&gt;_m (for the likelihood's
/// -sum m_k |I_k - C_k S_k|^2 / 2 sigma^2 that is g_k = C_k (I_k - C_k S_k) / sigma^2, without m_k), the gradient
/// with respect to the real voxels is <see cref="ProjectRealSpaceAdjoint(ReadOnlySpan{float}, FourierDisc, in Rotation3, Span{float})"/>(g).</para>
/// <para><b>Threads</b>: <see cref="Project"/> is safe to call concurrently; <see cref="ProjectAdjointAdd"/> too, with
/// one accumulator per worker (reduce them in a fixed order for reproducibility). <see cref="Transform"/>,
/// <see cref="TransformAdjoint"/> and the real-space helpers use this object's scratch and must not overlap.</para>
/// </summary>
public sealed class VolumeProjector
{
    private readonly IFft3D _fft;
    private readonly float[]? _premult;
    private float[]? _padded;
    private FourierVolume? _scratchVolume;

    /// <param name="boxSize">D, even</param>
    /// <param name="options">oversampling, premultiplication, kernel</param>
    /// <param name="backend">FFT backend; <see cref="FftBackends.Default"/> when null</param>
    public VolumeProjector(int boxSize, ProjectorOptions options, IFftBackend? backend = null)
    {
        FourierLayout.ValidateBoxSize(boxSize);
        options.Validate();
        BoxSize = boxSize;
        Options = options;
        PaddedSize = boxSize * options.Oversampling;
        _fft = (backend ?? FftBackends.Default).Plan3D(PaddedSize);
        _premult = options.Premultiply ? KernelMath.Premultiplier(options.Kernel, boxSize, PaddedSize) : null;
        SliceScale = Math.Sqrt(boxSize) * Math.Pow(options.Oversampling, 1.5);
    }

    public int BoxSize { get; }

    public int PaddedSize { get; }

    public ProjectorOptions Options { get; }

    /// <summary>sqrt(D) p^(3/2): the factor between an interpolated padded-transform value and the 2D DFT of the projection.</summary>
    public double SliceScale { get; }

    /// <summary>A zeroed transform/accumulator on this projector's padded grid.</summary>
    public FourierVolume CreateFourierVolume() => new(BoxSize, Options.Oversampling);

    /// <summary>Premultiply, pad and transform a real volume.</summary>
    /// <param name="volume">D^3 floats, [z][y][x]</param>
    /// <param name="destination">receives the padded half-space transform</param>
    public void Transform(ReadOnlySpan<float> volume, FourierVolume destination)
    {
        CheckVolume(destination);
        CheckReal(volume.Length);
        if (Options.Oversampling == 1 && _premult is null)
        {
            _fft.Forward(volume, destination.Values);
            return;
        }
        var padded = Padded;
        if (Options.Oversampling != 1) Array.Clear(padded);
        int d = BoxSize, dp = PaddedSize, o = (dp - d) / 2;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
            {
                var src = volume.Slice((z * d + y) * d, d);
                var dst = padded.AsSpan(((z + o) * dp + y + o) * dp + o, d);
                if (_premult is null)
                {
                    src.CopyTo(dst);
                    continue;
                }
                float gzy = _premult[z] * _premult[y];
                for (int x = 0; x < d; x++) dst[x] = src[x] * gzy * _premult[x];
            }
        _fft.Forward(padded, destination.Values);
    }

    /// <summary>
    /// Adjoint of <see cref="Transform"/>: inverse FFT, crop, premultiply. Maps an accumulated Fourier gradient to
    /// the gradient with respect to the real voxels.
    /// </summary>
    /// <param name="accumulator">padded half-space values (not modified)</param>
    /// <param name="volumeGradient">receives D^3 floats</param>
    public void TransformAdjoint(FourierVolume accumulator, Span<float> volumeGradient)
    {
        CheckVolume(accumulator);
        CheckReal(volumeGradient.Length);
        if (Options.Oversampling == 1 && _premult is null)
        {
            _fft.Inverse(accumulator.Values, volumeGradient);
            return;
        }
        var padded = Padded;
        _fft.Inverse(accumulator.Values, padded);
        int d = BoxSize, dp = PaddedSize, o = (dp - d) / 2;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
            {
                var src = padded.AsSpan(((z + o) * dp + y + o) * dp + o, d);
                var dst = volumeGradient.Slice((z * d + y) * d, d);
                if (_premult is null)
                {
                    src.CopyTo(dst);
                    continue;
                }
                float gzy = _premult[z] * _premult[y];
                for (int x = 0; x < d; x++) dst[x] = src[x] * gzy * _premult[x];
            }
    }

    /// <summary>The central slice for orientation A on the disc's points: slice_j ~ DFT(projection)(k_j).</summary>
    /// <param name="volume">from <see cref="Transform"/></param>
    /// <param name="disc">points k (BoxSize must be D)</param>
    /// <param name="rotation">RELION's A</param>
    /// <param name="slice">receives 2*disc.Count floats, interleaved complex</param>
    public void Project(FourierVolume volume, FourierDisc disc, in Rotation3 rotation, Span<float> slice)
    {
        CheckVolume(volume);
        CheckDisc(disc, slice.Length);
        ReadOnlySpan<float> v = volume.Values;
        Span<int> index = stackalloc int[FourierInterpolation.MaxTaps3D];
        Span<float> weight = stackalloc float[FourierInterpolation.MaxTaps3D];
        Span<float> sign = stackalloc float[FourierInterpolation.MaxTaps3D];
        Span<float> herm = stackalloc float[FourierInterpolation.MaxTaps3D];
        Span<float> axis = stackalloc float[3 * KernelMath.MaxTaps];
        double p = Options.Oversampling;
        var a = rotation;
        var kx = disc.Kx;
        var ky = disc.Ky;
        float scale = (float)SliceScale;
        for (int j = 0; j < disc.Count; j++)
        {
            double qx = p * (a.M00 * kx[j] + a.M10 * ky[j]);
            double qy = p * (a.M01 * kx[j] + a.M11 * ky[j]);
            double qz = p * (a.M02 * kx[j] + a.M12 * ky[j]);
            int n = FourierInterpolation.Taps3D(Options.Kernel, PaddedSize, qx, qy, qz, index, weight, sign, herm, axis);
            float re = 0, im = 0;
            for (int t = 0; t < n; t++)
            {
                int i = 2 * index[t];
                re += weight[t] * v[i];
                im += weight[t] * sign[t] * v[i + 1];
            }
            slice[2 * j] = scale * re;
            slice[2 * j + 1] = scale * im;
        }
    }

    /// <summary>The central slice for RELION Euler angles (A = angles.ToMatrix()).</summary>
    public void Project(FourierVolume volume, FourierDisc disc, EulerAngles angles, Span<float> slice) =>
        Project(volume, disc, angles.ToMatrix(), slice);

    /// <summary>Slices for several orientations, laid out [rotation][point] (rotations.Length * 2 * disc.Count floats).</summary>
    public void Project(FourierVolume volume, FourierDisc disc, ReadOnlySpan<Rotation3> rotations, Span<float> slices)
    {
        ArgumentNullException.ThrowIfNull(disc);
        int n = 2 * disc.Count;
        if (slices.Length != rotations.Length * n)
            throw new ArgumentException($"{slices.Length} floats for {rotations.Length} slices of {n}", nameof(slices));
        for (int r = 0; r < rotations.Length; r++)
            Project(volume, disc, rotations[r], slices.Slice(r * n, n));
    }

    /// <summary>
    /// Adjoint of <see cref="Project"/>, added into <paramref name="accumulator"/>: for any volume transform X,
    /// &lt;Project(X), values&gt;_m = &lt;X, ProjectAdjoint(values)&gt;_w exactly.
    /// </summary>
    /// <param name="values">2*disc.Count floats on the disc (e.g. a gradient with respect to the slice)</param>
    public void ProjectAdjointAdd(ReadOnlySpan<float> values, FourierDisc disc, in Rotation3 rotation, FourierVolume accumulator)
    {
        CheckVolume(accumulator);
        CheckDisc(disc, values.Length);
        Span<float> acc = accumulator.Values;
        Span<int> index = stackalloc int[FourierInterpolation.MaxTaps3D];
        Span<float> weight = stackalloc float[FourierInterpolation.MaxTaps3D];
        Span<float> sign = stackalloc float[FourierInterpolation.MaxTaps3D];
        Span<float> herm = stackalloc float[FourierInterpolation.MaxTaps3D];
        Span<float> axis = stackalloc float[3 * KernelMath.MaxTaps];
        double p = Options.Oversampling;
        var a = rotation;
        var kx = disc.Kx;
        var ky = disc.Ky;
        var m = disc.Multiplicity;
        float scale = (float)SliceScale;
        for (int j = 0; j < disc.Count; j++)
        {
            double qx = p * (a.M00 * kx[j] + a.M10 * ky[j]);
            double qy = p * (a.M01 * kx[j] + a.M11 * ky[j]);
            double qz = p * (a.M02 * kx[j] + a.M12 * ky[j]);
            int n = FourierInterpolation.Taps3D(Options.Kernel, PaddedSize, qx, qy, qz, index, weight, sign, herm, axis);
            float c = scale * m[j];
            float yr = values[2 * j] * c, yi = values[2 * j + 1] * c;
            for (int t = 0; t < n; t++)
            {
                int i = 2 * index[t];
                float w = weight[t] / herm[t];
                acc[i] += w * yr;
                acc[i + 1] += w * sign[t] * yi;
            }
        }
    }

    /// <summary>Adjoint of the Euler-angle <see cref="Project(FourierVolume, FourierDisc, EulerAngles, Span{float})"/>, added.</summary>
    public void ProjectAdjointAdd(ReadOnlySpan<float> values, FourierDisc disc, EulerAngles angles, FourierVolume accumulator) =>
        ProjectAdjointAdd(values, disc, angles.ToMatrix(), accumulator);

    /// <summary>Convenience for tests and finite differences: <see cref="Transform"/> then <see cref="Project"/>.</summary>
    /// <param name="volume">D^3 floats</param>
    public void ProjectRealSpace(ReadOnlySpan<float> volume, FourierDisc disc, in Rotation3 rotation, Span<float> slice)
    {
        var fv = ScratchVolume;
        Transform(volume, fv);
        Project(fv, disc, rotation, slice);
    }

    /// <summary>
    /// The real-space gradient path in one call: the exact adjoint of (premultiply -> pad -> FFT -> slice), i.e.
    /// &lt;ProjectRealSpace(v), g&gt;_m = v . ProjectRealSpaceAdjoint(g).
    /// </summary>
    /// <param name="sliceGradient">2*disc.Count floats</param>
    /// <param name="volumeGradient">receives D^3 floats (overwritten)</param>
    public void ProjectRealSpaceAdjoint(ReadOnlySpan<float> sliceGradient, FourierDisc disc, in Rotation3 rotation, Span<float> volumeGradient)
    {
        var acc = ScratchVolume;
        acc.Clear();
        ProjectAdjointAdd(sliceGradient, disc, rotation, acc);
        TransformAdjoint(acc, volumeGradient);
    }

    /// <summary>As the single-slice overload, summed over slices (gradients laid out [slice][point]).</summary>
    /// <param name="sliceGradients">rotations.Length * 2 * disc.Count floats</param>
    public void ProjectRealSpaceAdjoint(ReadOnlySpan<float> sliceGradients, FourierDisc disc, ReadOnlySpan<Rotation3> rotations, Span<float> volumeGradient)
    {
        ArgumentNullException.ThrowIfNull(disc);
        int n = 2 * disc.Count;
        if (sliceGradients.Length != rotations.Length * n)
            throw new ArgumentException($"{sliceGradients.Length} floats for {rotations.Length} slices of {n}", nameof(sliceGradients));
        var acc = ScratchVolume;
        acc.Clear();
        for (int r = 0; r < rotations.Length; r++)
            ProjectAdjointAdd(sliceGradients.Slice(r * n, n), disc, rotations[r], acc);
        TransformAdjoint(acc, volumeGradient);
    }

    private float[] Padded => _padded ??= new float[checked(PaddedSize * PaddedSize * PaddedSize)];

    private FourierVolume ScratchVolume => _scratchVolume ??= CreateFourierVolume();

    private void CheckVolume(FourierVolume v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.BoxSize != BoxSize || v.Oversampling != Options.Oversampling)
            throw new ArgumentException($"Fourier volume is D = {v.BoxSize}, p = {v.Oversampling}; projector is D = {BoxSize}, p = {Options.Oversampling}");
    }

    private void CheckReal(int length)
    {
        if (length != BoxSize * BoxSize * BoxSize)
            throw new ArgumentException($"real volume has {length} floats, expected D^3 = {BoxSize * BoxSize * BoxSize}");
    }

    private void CheckDisc(FourierDisc disc, int length)
    {
        ArgumentNullException.ThrowIfNull(disc);
        if (disc.BoxSize != BoxSize) throw new ArgumentException($"disc is for D = {disc.BoxSize}, projector for D = {BoxSize}", nameof(disc));
        if (length != 2 * disc.Count) throw new ArgumentException($"disc values have {length} floats, expected {2 * disc.Count}");
    }
}
