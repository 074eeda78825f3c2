using CryoFlow.Formats.Png;

namespace CryoFlow.Pipeline.Report;

/// <summary>A 2D histogram of viewing directions as a grayscale PNG.</summary>
/// <param name="Png">Columns: rot from -180° (left) to 180° (right). Rows: cos(tilt) from 1 (tilt 0°, top) to -1
/// (tilt 180°, bottom), so every cell covers the same solid angle (Lambert's cylindrical equal-area projection)
/// and a uniform distribution of views is a uniform gray. Black: no particle; white: the fullest cell.</param>
/// <param name="Columns">cells across</param>
/// <param name="Rows">cells down</param>
/// <param name="MaxCount">particles in the fullest cell</param>
public sealed record SkyMap(byte[] Png, int Columns, int Rows, long MaxCount);

/// <summary>The distribution of the particles' most probable poses and of how sure each one is.</summary>
public static class PoseDistribution
{
    /// <param name="rotDeg">RELION rlnAngleRot per particle, degrees (any range; wrapped)</param>
    /// <param name="tiltDeg">RELION rlnAngleTilt per particle, degrees, 0 to 180 (clamped)</param>
    public static SkyMap Sky(IReadOnlyList<double> rotDeg, IReadOnlyList<double> tiltDeg)
    {
        if (rotDeg.Count != tiltDeg.Count) throw new ArgumentException($"{rotDeg.Count} rot angles but {tiltDeg.Count} tilt angles", nameof(tiltDeg));
        // about eight particles per cell for a uniform distribution (2 h^2 cells), cells between 10° and 1° wide
        int columns = 2 * Math.Clamp((int)Math.Round(Math.Sqrt(rotDeg.Count / 16.0)), 18, 180);
        int rows = columns / 2;
        var counts = new long[columns * rows];
        for (int i = 0; i < rotDeg.Count; i++)
        {
            double rot = rotDeg[i], tilt = tiltDeg[i];
            if (!double.IsFinite(rot) || !double.IsFinite(tilt)) continue;
            double wrapped = rot + 180 - 360 * Math.Floor((rot + 180) / 360);
            int column = Math.Min(columns - 1, (int)(wrapped / 360 * columns));
            double cosTilt = Math.Cos(Math.Clamp(tilt, 0, 180) * Math.PI / 180);
            int row = Math.Clamp((int)((1 - cosTilt) / 2 * rows), 0, rows - 1);
            counts[row * columns + column]++;
        }
        long most = counts.Max();
        var pixels = new byte[counts.Length];
        for (int i = 0; i < counts.Length; i++) pixels[i] = most == 0 ? (byte)0 : (byte)Math.Round(255.0 * counts[i] / most);
        return new SkyMap(PngWriter.EncodeGray8(pixels, columns, rows), columns, rows, most);
    }

    /// <summary>Counts in <paramref name="bins"/> equal bins over [low, high]; values outside are clamped into the end bins, non-finite ones left out.</summary>
    public static long[] Histogram(IReadOnlyList<double> values, double low, double high, int bins)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (!(high > low)) throw new ArgumentException($"the range [{low}, {high}] is empty", nameof(high));
        var counts = new long[bins];
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) continue;
            counts[Math.Clamp((int)Math.Floor((v - low) / (high - low) * bins), 0, bins - 1)]++;
        }
        return counts;
    }
}
