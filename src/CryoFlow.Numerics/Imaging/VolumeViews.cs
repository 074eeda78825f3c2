namespace CryoFlow.Numerics.Imaging;

/// <summary>A plane through a cubic [z][y][x] map, named by the two axes it contains.</summary>
public enum MapPlane
{
    /// <summary>Columns along x, rows along y; the section at z = D/2, or the sum over z.</summary>
    XY,

    /// <summary>Columns along x, rows along z; the section at y = D/2, or the sum over y.</summary>
    XZ,

    /// <summary>Columns along y, rows along z; the section at x = D/2, or the sum over x.</summary>
    YZ,
}

/// <summary>
/// The 2D views of a map that a person looks at first: central sections through the centre voxel D/2 (DESIGN.md
/// section 2) and line-integral projections along the three axes. Each view is a D x D image, row-major, rows
/// running along the plane's second axis: image[v * D + u] with (u, v) = (x, y), (x, z) or (y, z).
/// </summary>
public static class VolumeViews
{
    /// <param name="volume">D^3 voxels, [z][y][x]</param>
    /// <param name="box">D</param>
    /// <param name="plane">the section's plane, through voxel D/2 of the third axis</param>
    /// <param name="image">D x D, image[v * D + u]</param>
    public static void CentralSection(ReadOnlySpan<float> volume, int box, MapPlane plane, Span<float> image)
    {
        CheckLengths(volume, box, image);
        int d = box, c = box / 2;
        for (int v = 0; v < d; v++)
            for (int u = 0; u < d; u++)
                image[v * d + u] = volume[Index(plane, u, v, c, d)];
    }

    /// <param name="volume">D^3 voxels, [z][y][x]</param>
    /// <param name="box">D</param>
    /// <param name="plane">the projection's plane: the sum runs along the third axis</param>
    /// <param name="image">D x D, image[v * D + u], the sum of the D voxels on the line through (u, v)</param>
    public static void Projection(ReadOnlySpan<float> volume, int box, MapPlane plane, Span<float> image)
    {
        CheckLengths(volume, box, image);
        int d = box;
        for (int v = 0; v < d; v++)
            for (int u = 0; u < d; u++)
            {
                double sum = 0;
                for (int w = 0; w < d; w++) sum += volume[Index(plane, u, v, w, d)];
                image[v * d + u] = (float)sum;
            }
    }

    /// <summary>The [z][y][x] index of in-plane position (u, v) at depth w along the plane's normal.</summary>
    private static int Index(MapPlane plane, int u, int v, int w, int d) => plane switch
    {
        MapPlane.XY => (w * d + v) * d + u,
        MapPlane.XZ => (v * d + w) * d + u,
        _ => (v * d + u) * d + w,
    };

    private static void CheckLengths(ReadOnlySpan<float> volume, int box, Span<float> image)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(box, 1);
        if (volume.Length != (long)box * box * box)
            throw new ArgumentException($"a box-{box} map has {(long)box * box * box} voxels; found {volume.Length}", nameof(volume));
        if (image.Length != box * box)
            throw new ArgumentException($"a view of a box-{box} map has {box * box} pixels; found {image.Length}", nameof(image));
    }
}
