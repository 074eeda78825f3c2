using CryoFlow.Numerics.Fourier;
using CryoFlow.Numerics.Geometry;
using CryoFlow.Numerics.Projection;

namespace CryoFlow.Numerics.Marginalisation;

/// <summary>
/// The central slices of the current volume for a fixed list of directions on one disc (|k| &lt; r*), computed once
/// per minibatch by <see cref="Update"/> and then shared read-only by every particle's marginaliser. Values are stored
/// split (real and imaginary planes, [direction][point]) as the likelihood kernel reads them, in the units of
/// <see cref="VolumeProjector.Project(FourierVolume, FourierDisc, in Rotation3, Span{float})"/> (the unitary DFT of the
/// line-integral projection).
/// </summary>
public sealed class SliceSet
{
    private readonly EulerAngles[] _angles;
    private readonly Rotation3[] _rotations;
    private readonly float[] _re, _im;

    /// <param name="disc">the points of every slice (its box size is the volume's D)</param>
    /// <param name="directions">RELION angles of each slice (the quadrature's are (rot, tilt, 0)); a pose
    /// (direction d, in-plane psi) is Euler(rot_d, tilt_d, psi0_d + psi)</param>
    public SliceSet(FourierDisc disc, ReadOnlySpan<EulerAngles> directions)
    {
        ArgumentNullException.ThrowIfNull(disc);
        Disc = disc;
        _angles = directions.ToArray();
        _rotations = new Rotation3[_angles.Length];
        for (int d = 0; d < _angles.Length; d++) _rotations[d] = _angles[d].ToMatrix();
        long n = checked((long)_angles.Length * disc.Count);
        if (n > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(directions), $"{_angles.Length} slices of {disc.Count} points do not fit one array");
        _re = new float[n];
        _im = new float[n];
    }

    public FourierDisc Disc { get; }

    /// <summary>Number of directions (slices).</summary>
    public int Count => _angles.Length;

    /// <summary>Points per slice, Disc.Count.</summary>
    public int Points => Disc.Count;

    public ReadOnlySpan<EulerAngles> Angles => _angles;

    /// <summary>A_d = Angles[d].ToMatrix().</summary>
    public ReadOnlySpan<Rotation3> Rotations => _rotations;

    /// <summary>[Count x Points] Re S[d, k].</summary>
    public ReadOnlySpan<float> Re => _re;

    /// <summary>[Count x Points] Im S[d, k].</summary>
    public ReadOnlySpan<float> Im => _im;

    /// <summary>
    /// Recomputes every slice from a volume transform. Directions are independent, so the result is identical for any
    /// degree of parallelism. Allocates one 2 x Points scratch buffer per block of directions (per call, not per slice).
    /// </summary>
    /// <param name="projector">the projector that made <paramref name="transform"/></param>
    /// <param name="transform">from <see cref="VolumeProjector.Transform"/></param>
    /// <param name="maxDegreeOfParallelism">-1 for the runtime's default, 1 for the calling thread only</param>
    public void Update(VolumeProjector projector, FourierVolume transform, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(projector);
        ArgumentNullException.ThrowIfNull(transform);
        if (projector.BoxSize != Disc.BoxSize) throw new ArgumentException($"projector is for D = {projector.BoxSize}, slices for D = {Disc.BoxSize}", nameof(projector));
        int nk = Points, count = Count;
        if (count == 0) return;
        if (maxDegreeOfParallelism == 1)
        {
            var buffer = new float[2 * nk];
            for (int d = 0; d < count; d++) ProjectOne(projector, transform, d, buffer);
            return;
        }
        // contiguous blocks of directions, one interleaved buffer per block
        int workers = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount;
        int blocks = Math.Min(count, 4 * workers);
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism }, b =>
        {
            var buffer = new float[2 * nk];
            int start = (int)((long)count * b / blocks), end = (int)((long)count * (b + 1) / blocks);
            for (int d = start; d < end; d++) ProjectOne(projector, transform, d, buffer);
        });
    }

    private void ProjectOne(VolumeProjector projector, FourierVolume transform, int d, float[] buffer)
    {
        int nk = Points;
        projector.Project(transform, Disc, _rotations[d], buffer);
        var re = _re.AsSpan(d * nk, nk);
        var im = _im.AsSpan(d * nk, nk);
        for (int k = 0; k < nk; k++)
        {
            re[k] = buffer[2 * k];
            im[k] = buffer[2 * k + 1];
        }
    }
}
