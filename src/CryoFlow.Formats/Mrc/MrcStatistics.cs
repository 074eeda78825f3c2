namespace CryoFlow.Formats.Mrc;

/// <summary>Summary of the voxels written to a file, as the header records them.</summary>
/// <param name="Count">voxels</param>
/// <param name="Min">smallest voxel</param>
/// <param name="Max">largest voxel</param>
/// <param name="Mean">mean voxel</param>
/// <param name="Rms">standard deviation about the mean (population, as mrcfile's <c>data.std()</c>), not the
/// root mean square about zero</param>
public readonly record struct MrcStatistics(long Count, double Min, double Max, double Mean, double Rms);

/// <summary>
/// Streaming min, max, mean and standard deviation in double. Each image is summarised exactly in two passes
/// (mean, then squared deviations), and images are merged with Chan et al.'s pairwise update, so the
/// variance does not suffer the cancellation of sum-of-squares minus square-of-sum over a long stack.
/// </summary>
internal struct RunningStatistics
{
    private long _count;
    private double _mean;
    private double _m2;
    private float _min;
    private float _max;

    public readonly long Count => _count;

    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return;
        double sum = 0;
        float min = values[0], max = values[0];
        foreach (float v in values)
        {
            sum += v;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        long n = values.Length;
        double mean = sum / n;
        double m2 = 0;
        foreach (float v in values)
        {
            double d = v - mean;
            m2 += d * d;
        }
        Merge(n, mean, m2, min, max);
    }

    private void Merge(long n, double mean, double m2, float min, float max)
    {
        if (_count == 0)
        {
            (_count, _mean, _m2, _min, _max) = (n, mean, m2, min, max);
            return;
        }
        long total = _count + n;
        double delta = mean - _mean;
        _mean += delta * n / total;
        _m2 += m2 + delta * delta * ((double)_count * n / total);
        _count = total;
        if (min < _min) _min = min;
        if (max > _max) _max = max;
    }

    public readonly MrcStatistics ToStatistics() => _count == 0
        ? new MrcStatistics(0, 0, 0, 0, 0)
        : new MrcStatistics(_count, _min, _max, _mean, Math.Sqrt(_m2 / _count));
}
