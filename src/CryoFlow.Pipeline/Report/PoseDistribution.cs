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
        var sky = new SkyCounts(rotDeg.Count);
        for (int i = 0; i < rotDeg.Count; i++) sky.Add(rotDeg[i], tiltDeg[i]);
        return sky.ToMap();
    }

    /// <summary>Counts in <paramref name="bins"/> equal bins over [low, high]; values outside are clamped into the end bins, non-finite ones left out.</summary>
    public static long[] Histogram(IReadOnlyList<double> values, double low, double high, int bins)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var counts = new long[bins];
        foreach (double v in values) AddTo(counts, v, low, high);
        return counts;
    }

    /// <summary>Counts <paramref name="v"/> into <paramref name="counts"/>, equal bins over [low, high] (see <see cref="Histogram"/>).</summary>
    public static void AddTo(long[] counts, double v, double low, double high)
    {
        if (!(high > low)) throw new ArgumentException($"the range [{low}, {high}] is empty", nameof(high));
        if (!double.IsFinite(v)) return;
        int bins = counts.Length;
        counts[Math.Clamp((int)Math.Floor((v - low) / (high - low) * bins), 0, bins - 1)]++;
    }

    /// <summary>
    /// A sky map filled one direction at a time (so that particles.star can be streamed): its grid is chosen from the
    /// number of directions it will be given, about eight per cell for a uniform distribution (2 h^2 cells), cells between
    /// 10° and 1° wide.
    /// </summary>
    public sealed class SkyCounts
    {
        private readonly int _columns, _rows;
        private readonly long[] _counts;

        /// <param name="directions">how many directions will be added</param>
        public SkyCounts(long directions)
        {
            _columns = 2 * (int)Math.Clamp(Math.Round(Math.Sqrt(directions / 16.0)), 18, 180);
            _rows = _columns / 2;
            _counts = new long[_columns * _rows];
        }

        /// <param name="rot">rlnAngleRot, degrees (any range; wrapped)</param>
        /// <param name="tilt">rlnAngleTilt, degrees, 0 to 180 (clamped); non-finite angles are left out</param>
        public void Add(double rot, double tilt)
        {
            if (!double.IsFinite(rot) || !double.IsFinite(tilt)) return;
            double wrapped = rot + 180 - 360 * Math.Floor((rot + 180) / 360);
            int column = Math.Min(_columns - 1, (int)(wrapped / 360 * _columns));
            double cosTilt = Math.Cos(Math.Clamp(tilt, 0, 180) * Math.PI / 180);
            int row = Math.Clamp((int)((1 - cosTilt) / 2 * _rows), 0, _rows - 1);
            _counts[row * _columns + column]++;
        }

        public SkyMap ToMap()
        {
            long most = _counts.Max();
            var pixels = new byte[_counts.Length];
            for (int i = 0; i < _counts.Length; i++) pixels[i] = most == 0 ? (byte)0 : (byte)Math.Round(255.0 * _counts[i] / most);
            return new SkyMap(PngWriter.EncodeGray8(pixels, _columns, _rows), _columns, _rows, most);
        }
    }
}
