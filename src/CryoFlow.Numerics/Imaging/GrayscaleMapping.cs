namespace CryoFlow.Numerics.Imaging;

/// <summary>
/// Maps a real image onto 8-bit gray levels for display: the image's finite minimum becomes 0 (black), its
/// maximum 255 (white), linearly in between. Non-finite values and constant images become 0.
/// </summary>
public static class GrayscaleMapping
{
    /// <summary>The smallest and largest finite value; (0, 0) when there is none.</summary>
    public static (float Low, float High) FiniteRange(ReadOnlySpan<float> values)
    {
        float low = float.PositiveInfinity, high = float.NegativeInfinity;
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) continue;
            if (v < low) low = v;
            if (v > high) high = v;
        }
        return low <= high ? (low, high) : (0, 0);
    }

    /// <param name="image">width x height, image[v * width + u]</param>
    /// <param name="width">columns</param>
    /// <param name="pixels">width x height gray levels, row-major from the top row</param>
    /// <param name="originAtBottom">true: the image's row v = 0 becomes the bottom row, so v increases upwards as
    /// on a plot (the map convention of IMOD and ChimeraX); false: it becomes the top row</param>
    public static void ToGray8(ReadOnlySpan<float> image, int width, Span<byte> pixels, bool originAtBottom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (image.Length % width != 0)
            throw new ArgumentException($"{image.Length} values do not make rows of {width}", nameof(image));
        if (pixels.Length != image.Length)
            throw new ArgumentException($"{image.Length} values need {image.Length} pixels; found {pixels.Length}", nameof(pixels));
        int height = image.Length / width;
        var (low, high) = FiniteRange(image);
        double scale = high > low ? 255.0 / ((double)high - low) : 0;
        for (int v = 0; v < height; v++)
        {
            int row = originAtBottom ? height - 1 - v : v;
            for (int u = 0; u < width; u++)
            {
                float x = image[v * width + u];
                pixels[row * width + u] = float.IsFinite(x) ? (byte)Math.Round((x - low) * scale) : (byte)0;
            }
        }
    }
}
