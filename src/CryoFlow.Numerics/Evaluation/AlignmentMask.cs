namespace CryoFlow.Numerics.Evaluation;

/// <summary>
/// Makes maps safe to rotate for the alignment search. A map whose background is not zero, or whose content reaches
/// the box edge, is a cube of density; turning it turns the cube's edges too, and their strong low-frequency
/// signal then favours rotations that keep the two boxes parallel over the ones that superimpose the molecules.
/// So the search sees each map with its background level (the mean outside the inscribed sphere) subtracted and
/// a soft spherical mask applied: 1 inside radius D/2 - 1 - w, a raised-cosine edge of width w = max(2, D/10)
/// voxels, 0 beyond D/2 - 1 (radii from the centre voxel D/2).
/// </summary>
internal static class AlignmentMask
{
    /// <summary>Mean of the voxels farther than D/2 from the centre voxel (the corners of the box).</summary>
    /// <param name="map">D^3 voxels, [z][y][x]</param>
    public static double BackgroundLevel(ReadOnlySpan<float> map, int boxSize)
    {
        int d = boxSize, c = d / 2;
        double limit = (double)c * c, sum = 0;
        long count = 0;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
            {
                double zy = (double)(z - c) * (z - c) + (double)(y - c) * (y - c);
                var row = map.Slice((z * d + y) * d, d);
                for (int x = 0; x < d; x++)
                {
                    if (zy + (double)(x - c) * (x - c) <= limit) continue;
                    sum += row[x];
                    count++;
                }
            }
        return count > 0 ? sum / count : 0;
    }

    /// <summary>(map - background) times the soft spherical mask.</summary>
    /// <param name="map">D^3 voxels, [z][y][x]</param>
    /// <returns>D^3 voxels</returns>
    public static float[] Apply(ReadOnlySpan<float> map, int boxSize)
    {
        int d = boxSize, c = d / 2;
        double background = BackgroundLevel(map, d);
        double outer = c - 1, width = Math.Max(2.0, d / 10.0), inner = outer - width;
        var result = new float[map.Length];
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
            {
                double zy = (double)(z - c) * (z - c) + (double)(y - c) * (y - c);
                int row = (z * d + y) * d;
                for (int x = 0; x < d; x++)
                {
                    double r = Math.Sqrt(zy + (double)(x - c) * (x - c));
                    double w = r <= inner ? 1 : r >= outer ? 0 : 0.5 * (1 + Math.Cos(Math.PI * (r - inner) / width));
                    result[row + x] = (float)((map[row + x] - background) * w);
                }
            }
        return result;
    }
}
