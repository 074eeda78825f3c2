namespace CryoFlow.Formats.Coordinates;

/// <summary>How coordinate files are read.</summary>
public sealed record CoordinateReadOptions
{
    /// <summary>
    /// Multiplies every coordinate after the format's own centre conversion: picks made on a downsampled image
    /// (Topaz's default) are brought to micrograph pixels with the downsampling factor. Default 1.
    /// </summary>
    public double Scale { get; init; } = 1;

    /// <summary>Keep only picks whose score is at least this; a file without scores is then an error. Null keeps all.</summary>
    public double? MinScore { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the option that is out of range.</summary>
    public void Validate()
    {
        if (!(Scale > 0) || !double.IsFinite(Scale)) throw new ArgumentException($"--coordinate-scale must be a positive number (found {Scale})");
        if (MinScore is double s && double.IsNaN(s)) throw new ArgumentException("--min-score must be a number");
    }
}
