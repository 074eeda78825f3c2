namespace CryoFlow.Numerics.Fourier;

/// <summary>
/// The coefficients of a 3D half-space (<see cref="FourierLayout"/>) inside a ball |k| &lt;= r, packed densely in
/// storage order: how SAGD's gradient history keeps only the band a minibatch was marginalised in (DESIGN 5). A
/// band of radius r holds about (2/3) pi r^3 of the D^2 (D/2+1) complex values, e.g. 3% of them for r = D/4.
/// </summary>
public static class FourierBand
{
    /// <summary>Complex values with kx^2 + ky^2 + kz^2 &lt;= r^2 in a D^3 half-space (all of them for r &gt;= D sqrt(3)/2).</summary>
    public static int Count(int boxSize, double radius)
    {
        FourierLayout.ValidateBoxSize(boxSize);
        CheckRadius(radius);
        int d = boxSize, h = d / 2 + 1, count = 0;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
                count += RowWidth(d, h, z, y, radius);
        return count;
    }

    /// <summary>Copies the band's coefficients of <paramref name="spectrum"/> into <paramref name="packed"/>.</summary>
    /// <param name="spectrum">half-space, 2 D^2 (D/2+1) floats (interleaved complex)</param>
    /// <param name="packed">2 <see cref="Count"/> floats</param>
    public static void Pack(int boxSize, double radius, ReadOnlySpan<float> spectrum, Span<float> packed)
    {
        CheckLengths(boxSize, radius, spectrum.Length, packed.Length);
        int d = boxSize, h = d / 2 + 1, at = 0;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
            {
                int width = RowWidth(d, h, z, y, radius);
                if (width == 0) continue;
                spectrum.Slice(2 * (z * d + y) * h, 2 * width).CopyTo(packed[at..]);
                at += 2 * width;
            }
    }

    /// <summary>Writes the band's coefficients from <paramref name="packed"/> into <paramref name="spectrum"/> and zeroes the rest.</summary>
    /// <param name="packed">2 <see cref="Count"/> floats, from <see cref="Pack"/> with the same box and radius</param>
    /// <param name="spectrum">half-space, 2 D^2 (D/2+1) floats</param>
    public static void Unpack(int boxSize, double radius, ReadOnlySpan<float> packed, Span<float> spectrum)
    {
        CheckLengths(boxSize, radius, spectrum.Length, packed.Length);
        spectrum.Clear();
        int d = boxSize, h = d / 2 + 1, at = 0;
        for (int z = 0; z < d; z++)
            for (int y = 0; y < d; y++)
            {
                int width = RowWidth(d, h, z, y, radius);
                if (width == 0) continue;
                packed.Slice(at, 2 * width).CopyTo(spectrum[(2 * (z * d + y) * h)..]);
                at += 2 * width;
            }
    }

    private static void CheckRadius(double radius)
    {
        if (double.IsNaN(radius)) throw new ArgumentOutOfRangeException(nameof(radius), radius, "radius must be a number");
    }

    private static void CheckLengths(int boxSize, double radius, int spectrum, int packed)
    {
        int full = 2 * FourierLayout.HalfSpaceLength(boxSize);
        if (spectrum != full) throw new ArgumentException($"spectrum has {spectrum} floats, a D = {boxSize} half-space {full}", nameof(spectrum));
        int band = 2 * Count(boxSize, radius);
        if (packed != band) throw new ArgumentException($"packed band has {packed} floats, the band r = {radius} of D = {boxSize} holds {band}", nameof(packed));
    }

    /// <summary>Coefficients of row (z, y) in the band: kx = 0..width-1, the kx with kx^2 &lt;= r^2 - ky^2 - kz^2.</summary>
    private static int RowWidth(int d, int h, int z, int y, double radius)
    {
        if (double.IsPositiveInfinity(radius)) return h;
        int kz = z < d / 2 ? z : z - d, ky = y < d / 2 ? y : y - d;
        double left = radius * radius - (double)kz * kz - (double)ky * ky;
        if (left < 0) return 0;
        int width = Math.Min(h, (int)Math.Sqrt(left) + 1);
        while (width > 0 && (double)(width - 1) * (width - 1) > left) width--; // guard the square root's rounding
        while (width < h && (double)width * width <= left) width++;
        return width;
    }
}
