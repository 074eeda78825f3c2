namespace CryoFlow.Numerics.Extraction;

/// <summary>
/// RELION's particle normalisation (<c>relion_preprocess --norm</c>; 3dem/relion src/image.cpp normalise,
/// subtractBackgroundRamp, calculateBackgroundAvgStddev): the background is every pixel with
/// i² + j² &gt; r², (i, j) the offsets of row and column from the centre pixel D/2 and r a whole number of pixels;
/// by default a least-squares plane fitted to the background is subtracted from the whole image, then the image
/// is shifted and scaled so the background has mean 0 and standard deviation 1 (population, divided by n).
/// The plane fit's normal matrix depends only on the box and radius, so it is inverted once here; per image the
/// work is two passes over the pixels, in double, without allocation. Immutable and thread-safe.
/// </summary>
public sealed class BackgroundNormaliser
{
    private readonly int[] _background;
    private readonly double[] _inverse = new double[9];

    /// <param name="boxSize">D</param>
    /// <param name="backgroundRadius">r, px: the background is strictly outside it (RELION's --bg_radius)</param>
    /// <param name="subtractRamp">fit and subtract a plane first (RELION's default; --no_ramp turns it off)</param>
    public BackgroundNormaliser(int boxSize, int backgroundRadius, bool subtractRamp = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(boxSize, 2);
        ArgumentOutOfRangeException.ThrowIfNegative(backgroundRadius);
        if (2 * backgroundRadius > boxSize)
            throw new ArgumentOutOfRangeException(nameof(backgroundRadius), backgroundRadius, $"twice the background radius is larger than the box ({boxSize})");
        BoxSize = boxSize;
        BackgroundRadius = backgroundRadius;
        SubtractRamp = subtractRamp;
        int c = boxSize / 2, r2 = backgroundRadius * backgroundRadius;
        var bg = new List<int>();
        for (int y = 0; y < boxSize; y++)
            for (int x = 0; x < boxSize; x++)
                if ((y - c) * (y - c) + (x - c) * (x - c) > r2) bg.Add(y * boxSize + x);
        _background = bg.ToArray();
        if (_background.Length < 3)
            throw new ArgumentOutOfRangeException(nameof(backgroundRadius), backgroundRadius, $"fewer than 3 background pixels in a box of {boxSize}");
        if (subtractRamp) InvertNormalMatrix();
    }

    public int BoxSize { get; }

    public int BackgroundRadius { get; }

    public bool SubtractRamp { get; }

    /// <summary>Number of background pixels.</summary>
    public int BackgroundCount => _background.Length;

    /// <summary>RELION's default radius for a box: the GUI's background diameter of 75% of the box, halved and truncated.</summary>
    public static int DefaultRadius(int boxSize) => (int)(0.75 * boxSize / 2);

    /// <summary>Normalises <paramref name="image"/> in place.</summary>
    /// <param name="image">D x D floats, [y][x]</param>
    /// <returns>false, leaving the image unscaled but ramp-subtracted, when the background's standard deviation is
    /// below 1e-10 (RELION warns and skips the scaling), or a pixel is not finite</returns>
    public bool Normalise(Span<float> image)
    {
        if (image.Length != BoxSize * BoxSize) throw new ArgumentException($"image has {image.Length} floats, expected {BoxSize * BoxSize}", nameof(image));
        if (SubtractRamp) RemovePlane(image);
        double sum = 0, sum2 = 0;
        foreach (int i in _background)
        {
            double v = image[i];
            sum += v;
            sum2 += v * v;
        }
        double n = _background.Length, mean = sum / n, variance = sum2 / n - mean * mean;
        double sd = Math.Sqrt(Math.Max(variance, 0));
        if (!(sd >= 1e-10) || !double.IsFinite(sd)) return false;
        float m = (float)mean, scale = (float)(1 / sd);
        for (int i = 0; i < image.Length; i++) image[i] = (image[i] - m) * scale;
        return true;
    }

    // z = a x + b y + c over the background, x the column and y the row offset from the centre
    private void RemovePlane(Span<float> image)
    {
        int d = BoxSize, c = d / 2;
        double sxz = 0, syz = 0, sz = 0;
        foreach (int i in _background)
        {
            double z = image[i];
            sxz += (i % d - c) * z;
            syz += (i / d - c) * z;
            sz += z;
        }
        var m = _inverse;
        double a = m[0] * sxz + m[1] * syz + m[2] * sz;
        double b = m[3] * sxz + m[4] * syz + m[5] * sz;
        double k = m[6] * sxz + m[7] * syz + m[8] * sz;
        for (int y = 0; y < d; y++)
        {
            var row = image.Slice(y * d, d);
            double rowBase = b * (y - c) + k;
            for (int x = 0; x < d; x++) row[x] = (float)(row[x] - (a * (x - c) + rowBase));
        }
    }

    private void InvertNormalMatrix()
    {
        int d = BoxSize, c = d / 2;
        double sxx = 0, sxy = 0, sx = 0, syy = 0, sy = 0, n = _background.Length;
        foreach (int i in _background)
        {
            double x = i % d - c, y = i / d - c;
            sxx += x * x; sxy += x * y; sx += x; syy += y * y; sy += y;
        }
        // symmetric [[sxx, sxy, sx], [sxy, syy, sy], [sx, sy, n]]: inverse by cofactors
        double c00 = syy * n - sy * sy, c01 = -(sxy * n - sy * sx), c02 = sxy * sy - syy * sx;
        double c11 = sxx * n - sx * sx, c12 = -(sxx * sy - sxy * sx), c22 = sxx * syy - sxy * sxy;
        double det = sxx * c00 + sxy * c01 + sx * c02;
        if (Math.Abs(det) < 1e-12) throw new ArgumentException("the background is too small to fit a plane");
        double[] inv = [c00, c01, c02, c01, c11, c12, c02, c12, c22];
        for (int i = 0; i < 9; i++) _inverse[i] = inv[i] / det;
    }
}
