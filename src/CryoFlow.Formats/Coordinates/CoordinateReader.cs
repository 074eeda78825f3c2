using System.Globalization;
using System.Text.Json;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Micrographs;
using CryoFlow.Formats.Particles;
using CryoFlow.Formats.Star;

namespace CryoFlow.Formats.Coordinates;

/// <summary>
/// Reads particle picks from the formats pickers write (ECOSYSTEM.md 4), choosing the format by extension, and
/// converts every one to particle centres in micrograph pixels:
/// <list type="bullet">
/// <item><c>.star</c>: RELION coordinates (rlnCoordinateX/Y are centres; score rlnAutopickFigureOfMerit or Topaz's
/// older ParticleScore); one micrograph per file, or many when the table has rlnMicrographName; a RELION
/// <c>autopick.star</c> list (rlnMicrographName + rlnMicrographCoordinates) is followed to its per-micrograph files.</item>
/// <item><c>.cbox</c>: crYOLO (data_cryolo with _CoordinateX/Y, _Width, _Height, _Confidence; the old whitespace
/// form x y w h confidence): corners, centre = corner + size/2.</item>
/// <item><c>.box</c>: EMAN / crYOLO, x y w h [mode] per line: corners, centre = corner + size/2 (as RELION's
/// preprocessing reads them).</item>
/// <item><c>.json</c>: EMAN2, <c>{"boxes": [[x, y, tag, score?], ...]}</c>: centres.</item>
/// <item><c>.txt</c>, <c>.tsv</c>: Topaz, a header naming image_name, x_coord, y_coord and optionally score;
/// centres, in the pixels of the image Topaz scored (use <see cref="CoordinateReadOptions.Scale"/>).</item>
/// </list>
/// No Y flip is applied: RELION does not flip either, and a flip must be asked for, never guessed.
/// Bad content is a <see cref="CoordinateFormatException"/> naming the file, line and field.
/// </summary>
public static class CoordinateReader
{
    /// <summary>Extensions (lower case, with the dot) this reader recognises.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".star", ".cbox", ".box", ".json", ".txt", ".tsv"];

    /// <summary>Whether the file's extension names a coordinate format.</summary>
    public static bool IsCoordinateFile(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>The picks of every micrograph the file names (one set for per-micrograph formats).</summary>
    /// <exception cref="CoordinateFormatException">bad content</exception>
    /// <exception cref="DataFileNotFoundException">the file, or a file an autopick list names, does not exist</exception>
    public static IReadOnlyList<CoordinateSet> Read(string path, CoordinateReadOptions? options = null)
    {
        options ??= new CoordinateReadOptions();
        options.Validate();
        if (!File.Exists(path)) throw new DataFileNotFoundException(path, [Path.GetFullPath(path)], new DataLocation(FilePath: path));
        var sets = Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".star" => StarCoordinates.ReadRelion(path),
            ".cbox" => [ReadCbox(path)],
            ".box" => [ReadBox(path, CoordinateFormat.EmanBox)],
            ".json" => [ReadEman2Json(path)],
            ".txt" or ".tsv" => ReadTopaz(path),
            string ext => throw new CoordinateFormatException($"unknown coordinate file extension '{ext}'",
                new DataLocation(FilePath: path, Expected: string.Join(", ", Extensions), Found: ext)),
        };
        return sets.Select(s => Apply(s, options)).ToArray();
    }

    /// <summary>
    /// Every coordinate set in the files, checked now; per-micrograph files are re-read when <see cref="CoordinateSource.Load"/>
    /// is called, multi-micrograph files keep their sets.
    /// </summary>
    public static IReadOnlyList<CoordinateSource> Catalog(IEnumerable<string> paths, CoordinateReadOptions? options = null)
    {
        options ??= new CoordinateReadOptions();
        var sources = new List<CoordinateSource>();
        foreach (string path in paths)
        {
            var sets = Read(path, options);
            bool perMicrograph = sets.Count == 1 && sets[0].KeyIsFileName;
            foreach (var set in sets)
                sources.Add(CoordinateSource.Of(set, options) with { Held = perMicrograph ? null : set });
        }
        return sources;
    }

    /// <summary>The scale and score threshold applied to one set.</summary>
    private static CoordinateSet Apply(CoordinateSet set, CoordinateReadOptions options)
    {
        if (options.MinScore is double min && set.Picks.Count > 0 && set.Picks.Any(p => p.Score is null))
        {
            var first = set.Picks.First(p => p.Score is null);
            throw new CoordinateFormatException("--min-score is given but this pick has no score",
                new DataLocation(FilePath: set.SourcePath, Line: first.Line, Field: "score", Expected: "a score for every pick", Found: "none"));
        }
        var kept = new List<PickedCoordinate>(set.Picks.Count);
        int below = 0;
        foreach (var p in set.Picks)
        {
            if (options.MinScore is double m && p.Score < m) { below++; continue; }
            kept.Add(options.Scale == 1 ? p : p with { X = p.X * options.Scale, Y = p.Y * options.Scale });
        }
        return set with { Picks = kept, BelowMinScore = set.BelowMinScore + below };
    }

    /// <summary>The micrograph name a per-micrograph coordinate file carries: its file name without extension.</summary>
    internal static string FileKey(string path) => Path.GetFileNameWithoutExtension(path);

    // ------------------------------------------------------------------ whitespace formats

    private static CoordinateSet ReadBox(string path, CoordinateFormat format)
    {
        var picks = new List<PickedCoordinate>();
        foreach (var (line, tokens) in TextLines(path))
        {
            if (tokens.Length < 4)
                throw new CoordinateFormatException("a box line needs x y width height", new DataLocation(FilePath: path, Line: line,
                    Expected: "4 or more columns", Found: $"{tokens.Length} column{(tokens.Length == 1 ? "" : "s")}"));
            double x = Number(path, line, "x (column 1)", tokens[0]);
            double y = Number(path, line, "y (column 2)", tokens[1]);
            double w = Number(path, line, "width (column 3)", tokens[2]);
            double h = Number(path, line, "height (column 4)", tokens[3]);
            double? score = format == CoordinateFormat.CryoloCbox && tokens.Length > 4 ? OptionalNumber(tokens[4]) : null;
            picks.Add(new PickedCoordinate(x + w / 2, y + h / 2, score, line));
        }
        return new CoordinateSet(path, FileKey(path), true, format, picks);
    }

    private static CoordinateSet ReadCbox(string path)
    {
        // crYOLO 1.8+ writes STAR (data_global, data_cryolo, data_cryolo_include); older versions whitespace columns
        bool star = TextLines(path).Any(l => l.Tokens[0].StartsWith("data_", StringComparison.Ordinal));
        return star ? StarCoordinates.ReadCbox(path) : ReadBox(path, CoordinateFormat.CryoloCbox);
    }

    private static CoordinateSet ReadEman2Json(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new CoordinateFormatException($"not valid JSON: {e.Message}", new DataLocation(FilePath: path, Line: e.LineNumber + 1), e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("boxes", out var boxes) || boxes.ValueKind != JsonValueKind.Array)
                throw new CoordinateFormatException("an EMAN2 coordinate file is an object with a \"boxes\" array", new DataLocation(FilePath: path, Field: "boxes"));
            var picks = new List<PickedCoordinate>(boxes.GetArrayLength());
            int i = 0;
            foreach (var box in boxes.EnumerateArray())
            {
                if (box.ValueKind != JsonValueKind.Array || box.GetArrayLength() < 2)
                    throw new CoordinateFormatException("a box is an array [x, y, ...]", new DataLocation(FilePath: path, Record: i, Field: $"boxes[{i}]", Found: box.ValueKind.ToString()));
                double x = JsonNumber(path, box[0], i, 0), y = JsonNumber(path, box[1], i, 1);
                double? score = box.GetArrayLength() > 3 && box[3].ValueKind == JsonValueKind.Number ? box[3].GetDouble() : null;
                picks.Add(new PickedCoordinate(x, y, score, null));
                i++;
            }
            return new CoordinateSet(path, FileKey(path), true, CoordinateFormat.Eman2Json, picks);
        }
    }

    private static double JsonNumber(string path, JsonElement e, int box, int index) =>
        e.ValueKind == JsonValueKind.Number && double.IsFinite(e.GetDouble()) ? e.GetDouble()
        : throw new CoordinateFormatException($"{(index == 0 ? "x" : "y")} must be a number",
            new DataLocation(FilePath: path, Record: box, Field: $"boxes[{box}][{index}]", Expected: "a number", Found: e.GetRawText()));

    private static IReadOnlyList<CoordinateSet> ReadTopaz(string path)
    {
        int cName = -1, cX = -1, cY = -1, cScore = -1, columns = 0;
        var byImage = new Dictionary<string, List<PickedCoordinate>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var (line, tokens) in TextLines(path, tabSeparated: true))
        {
            if (columns == 0)
            {
                var labels = tokens.Select(t => t.ToLowerInvariant()).ToList();
                (cName, cX, cY, cScore, columns) = (labels.IndexOf("image_name"), labels.IndexOf("x_coord"), labels.IndexOf("y_coord"), labels.IndexOf("score"), labels.Count);
                if (cName < 0 || cX < 0 || cY < 0)
                    throw new CoordinateFormatException("a Topaz file starts with a header naming image_name, x_coord, y_coord (and score)",
                        new DataLocation(FilePath: path, Line: line, Field: "header", Expected: "image_name x_coord y_coord [score]", Found: string.Join(' ', tokens)));
                continue;
            }
            if (tokens.Length != columns)
                throw new CoordinateFormatException("row has a different number of columns than the header",
                    new DataLocation(FilePath: path, Line: line, Expected: $"{columns} columns", Found: $"{tokens.Length}"));
            string image = tokens[cName];
            if (!byImage.TryGetValue(image, out var list))
            {
                byImage[image] = list = [];
                order.Add(image);
            }
            double? score = cScore >= 0 ? Number(path, line, "score", tokens[cScore]) : null;
            list.Add(new PickedCoordinate(Number(path, line, "x_coord", tokens[cX]), Number(path, line, "y_coord", tokens[cY]), score, line));
        }
        if (columns == 0)
            throw new CoordinateFormatException("empty Topaz file: no header", new DataLocation(FilePath: path, Expected: "image_name x_coord y_coord [score]"));
        return order.Select(image => new CoordinateSet(path, image, false, CoordinateFormat.Topaz, byImage[image])).ToArray();
    }

    /// <summary>Non-blank lines that are not comments (#), split on whitespace (or on tabs where a line has them and <paramref name="tabSeparated"/>).</summary>
    internal static IEnumerable<(long Line, string[] Tokens)> TextLines(string path, bool tabSeparated = false)
    {
        long n = 0;
        foreach (string raw in File.ReadLines(path))
        {
            n++;
            string text = raw.Trim();
            if (text.Length == 0 || text[0] == '#') continue;
            string[] tokens = tabSeparated && text.Contains('\t')
                ? text.Split('\t').Select(t => t.Trim()).ToArray()
                : text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            yield return (n, tokens);
        }
    }

    internal static double Number(string path, long? line, string field, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
        : throw new CoordinateFormatException($"{field} must be a number", new DataLocation(FilePath: path, Line: line, Field: field, Expected: "a number", Found: $"'{text}'"));

    /// <summary>A score that may be missing: pandas writes nan or &lt;NA&gt; for empty cells.</summary>
    internal static double? OptionalNumber(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : null;
}

/// <summary>The STAR-based coordinate formats: RELION (per micrograph, multi-micrograph, autopick lists) and crYOLO CBOX.</summary>
internal static class StarCoordinates
{
    private const string MicrographName = RelionLabels.MicrographName;
    private const string MicrographCoordinates = RelionLabels.MicrographCoordinates;
    private const string CoordinateX = RelionLabels.CoordinateX;
    private const string CoordinateY = RelionLabels.CoordinateY;
    private static readonly string[] ScoreLabels = [RelionLabels.AutopickFigureOfMerit, "ParticleScore"];

    public static IReadOnlyList<CoordinateSet> ReadRelion(string path)
    {
        var doc = Parse(path);
        var picks = doc.Blocks.FirstOrDefault(b => b.Loop is { } t && t.Contains(CoordinateX));
        if (picks is not null) return FromTable(path, picks.Loop!);
        var list = doc.Blocks.FirstOrDefault(b => b.Loop is { } t && t.Contains(MicrographCoordinates) && t.Contains(MicrographName));
        if (list is not null) return FromList(path, list.Loop!);
        // an autopick file of a micrograph with no picks may have no loop at all
        if (doc.Blocks.All(b => b.Loop is null))
            return [new CoordinateSet(path, CoordinateReader.FileKey(path), true, CoordinateFormat.RelionStar, [])];
        throw new CoordinateFormatException("no coordinate table: no loop has _rlnCoordinateX (or an autopick list with _rlnMicrographCoordinates)",
            new DataLocation(FilePath: path, Field: CoordinateX));
    }

    public static CoordinateSet ReadCbox(string path)
    {
        var doc = Parse(path);
        var t = (doc.Find("cryolo") ?? throw new CoordinateFormatException("a crYOLO CBOX file has a data_cryolo block", new DataLocation(FilePath: path, Block: "cryolo")))
            .Loop ?? new StarTable("CoordinateX", "CoordinateY", "Width", "Height");
        int cx = Require(t, path, "CoordinateX"), cy = Require(t, path, "CoordinateY"), cw = Require(t, path, "Width"), ch = Require(t, path, "Height");
        int cConf = t.IndexOf("Confidence");
        var picks = new PickedCoordinate[t.RowCount];
        for (int r = 0; r < t.RowCount; r++)
        {
            double x = Cell(t, r, cx, path), y = Cell(t, r, cy, path), w = Cell(t, r, cw, path), h = Cell(t, r, ch, path);
            picks[r] = new PickedCoordinate(x + w / 2, y + h / 2, cConf >= 0 ? CoordinateReader.OptionalNumber(t.GetString(r, cConf)) : null, t.LineOf(r));
        }
        return new CoordinateSet(path, CoordinateReader.FileKey(path), true, CoordinateFormat.CryoloCbox, picks);
    }

    private static StarDocument Parse(string path)
    {
        try
        {
            return StarReader.ReadFile(path);
        }
        catch (StarFormatException e)
        {
            throw new CoordinateFormatException(e.Problem, e.Where, e);
        }
    }

    private static IReadOnlyList<CoordinateSet> FromTable(string path, StarTable t)
    {
        int cx = t.RequireColumn(CoordinateX), cy = Require(t, path, CoordinateY);
        int cName = t.IndexOf(MicrographName);
        int cScore = ScoreLabels.Select(t.IndexOf).FirstOrDefault(i => i >= 0, -1);
        var groups = new Dictionary<string, List<PickedCoordinate>>(StringComparer.Ordinal);
        var order = new List<string>();
        string fileKey = CoordinateReader.FileKey(path);
        for (int r = 0; r < t.RowCount; r++)
        {
            string key = cName >= 0 ? t.GetString(r, cName) : fileKey;
            if (!groups.TryGetValue(key, out var list))
            {
                groups[key] = list = [];
                order.Add(key);
            }
            list.Add(new PickedCoordinate(Cell(t, r, cx, path), Cell(t, r, cy, path), cScore >= 0 ? Cell(t, r, cScore, path) : null, t.LineOf(r)));
        }
        if (cName < 0) return [new CoordinateSet(path, fileKey, true, CoordinateFormat.RelionStar, groups.GetValueOrDefault(fileKey) ?? [])];
        return order.Select(k => new CoordinateSet(path, k, false, CoordinateFormat.RelionStar, groups[k])).ToArray();
    }

    /// <summary>RELION 3.1+ autopick.star: one row per micrograph naming its coordinate file (project-relative).</summary>
    private static IReadOnlyList<CoordinateSet> FromList(string path, StarTable t)
    {
        int cName = t.RequireColumn(MicrographName), cFile = t.RequireColumn(MicrographCoordinates);
        var sets = new List<CoordinateSet>(t.RowCount);
        for (int r = 0; r < t.RowCount; r++)
        {
            string mic = t.GetString(r, cName);
            string file = RelionPaths.Resolve(path, t.GetString(r, cFile), t.Where(r, cFile));
            foreach (var s in ReadRelion(file))
                sets.Add(s.KeyIsFileName ? s with { MicrographKey = mic, KeyIsFileName = false } : s);
        }
        return sets;
    }

    private static int Require(StarTable t, string path, string label)
    {
        int i = t.IndexOf(label);
        return i >= 0 ? i : throw new CoordinateFormatException($"missing column _{label}", new DataLocation(FilePath: path, Block: t.BlockName, Line: t.LoopLine, Field: label));
    }

    private static double Cell(StarTable t, int row, int col, string path) =>
        t.TryGetDouble(row, col, out double v) && double.IsFinite(v) ? v
        : throw new CoordinateFormatException($"_{t.Label(col)} must be a number", t.Where(row, col, "a number", $"'{t.GetString(row, col)}'") with { FilePath = path });
}
