namespace CryoFlow.Formats.Coordinates;

/// <summary>The file format a set of picks came from.</summary>
public enum CoordinateFormat
{
    /// <summary>RELION coordinate STAR (<c>*_autopick.star</c>, crYOLO STAR, or a table with rlnMicrographName): centres.</summary>
    RelionStar,

    /// <summary>crYOLO <c>.cbox</c> (STAR since crYOLO 1.8, whitespace columns before): lower-left corners plus width/height.</summary>
    CryoloCbox,

    /// <summary>EMAN / crYOLO <c>.box</c>: x y w h [mode], lower-left corners.</summary>
    EmanBox,

    /// <summary>EMAN2 <c>.json</c> (<c>{"boxes": [[x, y, tag], ...]}</c>): centres.</summary>
    Eman2Json,

    /// <summary>Topaz tab-separated <c>image_name x_coord y_coord score</c>: centres, often in downsampled pixels.</summary>
    Topaz,
}

/// <summary>One pick: the particle centre in micrograph pixels (0-based, x along columns), as the picker's
/// own convention has been converted to centres and any coordinate scale applied.</summary>
/// <param name="X">centre, micrograph px</param>
/// <param name="Y">centre, micrograph px</param>
/// <param name="Score">figure of merit when the file gives one (rlnAutopickFigureOfMerit, crYOLO confidence, Topaz score)</param>
/// <param name="Line">1-based line of the file it came from, for messages; null where lines mean nothing (JSON)</param>
public readonly record struct PickedCoordinate(double X, double Y, double? Score, long? Line);

/// <summary>The picks of one micrograph from one coordinate file.</summary>
/// <param name="SourcePath">the coordinate file</param>
/// <param name="MicrographKey">what names the micrograph: the micrograph name the file gives (rlnMicrographName,
/// Topaz image_name) or, for per-micrograph files, the coordinate file's own name without extension</param>
/// <param name="KeyIsFileName">true when <paramref name="MicrographKey"/> is the coordinate file's name, which may carry a
/// suffix after the micrograph's (mic001_autopick.star for mic001.mrc)</param>
/// <param name="Format">the format read</param>
/// <param name="Picks">in file order</param>
public sealed record CoordinateSet(string SourcePath, string MicrographKey, bool KeyIsFileName, CoordinateFormat Format, IReadOnlyList<PickedCoordinate> Picks)
{
    /// <summary>Picks left out because their score is below <see cref="CoordinateReadOptions.MinScore"/>.</summary>
    public int BelowMinScore { get; init; }

    public override string ToString() => $"{SourcePath} ({Picks.Count} picks for '{MicrographKey}')";
}

/// <summary>
/// A coordinate set known by name before its picks are needed: a per-micrograph file is read once to check it and
/// count its picks, then again only when its micrograph is extracted, so a session of 10^4 micrographs costs no
/// memory per pick until then; the sets of a multi-micrograph file (Topaz, a STAR table with rlnMicrographName) are
/// held, having been read anyway.
/// </summary>
public sealed record CoordinateSource(string SourcePath, string MicrographKey, bool KeyIsFileName, CoordinateFormat Format, int PickCount, CoordinateReadOptions Options)
{
    /// <summary>The set, when it was kept from the first reading.</summary>
    public CoordinateSet? Held { get; init; }

    /// <summary>The picks (scaled and thresholded), read now unless held.</summary>
    public CoordinateSet Load() => Held ?? CoordinateReader.Read(SourcePath, Options).Single();

    /// <summary>A source that holds its set.</summary>
    public static CoordinateSource Of(CoordinateSet set, CoordinateReadOptions? options = null) =>
        new(set.SourcePath, set.MicrographKey, set.KeyIsFileName, set.Format, set.Picks.Count, options ?? new CoordinateReadOptions()) { Held = set };

    public override string ToString() => $"{SourcePath} ({PickCount} picks for '{MicrographKey}')";
}
