using System.Text.Json;
using System.Text.Json.Serialization;
using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Star;

namespace CryoFlow.Pipeline.Stages.Extract;

/// <summary>
/// A particle source that is micrographs and picks rather than a stack: the inputs and settings of an extraction,
/// as JSON (RUN/extraction.json). `cryoflow reconstruct --micrographs ...` writes one into the run folder and
/// reconstructs from it, so the run records how its particles were cut, and `cryoflow reconstruct RUN/extraction.json`
/// repeats it. Relative paths are relative to the manifest's folder. Unknown keys are errors.
/// </summary>
public static class ExtractionManifest
{
    public const string Kind = "cryoflow-extraction";
    public const string FileName = "extraction.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    private sealed record Document(string Kind, int Version, string[] Micrographs, string[] Coordinates, string[]? Ctf = null, ExtractSettings? Extract = null);

    private sealed record ExtractSettings(int Box, int? OutputBox = null, bool InvertContrast = true, bool Normalise = true, int? BackgroundRadius = null,
        bool SubtractRamp = true, double CoordinateScale = 1, double? MinScore = null, double? PixelSize = null, int Threads = 0);

    /// <summary>Whether a file is a manifest (by extension: .json).</summary>
    public static bool IsManifest(string path) => path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Writes atomically, with absolute paths.</summary>
    public static void Write(string path, ExtractionSources sources, ExtractOptions o)
    {
        static string[] Full(IEnumerable<string> paths) => [.. paths.Select(Path.GetFullPath)];
        var doc = new Document(Kind, 1, Full(sources.Micrographs), Full(sources.Coordinates), sources.Ctf.Count > 0 ? Full(sources.Ctf) : null,
            new ExtractSettings(o.Box, o.OutputBox, o.InvertContrast, o.Normalise, o.BackgroundRadius, o.SubtractRamp, o.CoordinateScale, o.MinScore, o.PixelSize, o.Threads));
        AtomicFile.Write(path, s => JsonSerializer.Serialize(s, doc, Json));
    }

    /// <exception cref="CryoFlowDataException">not a manifest, bad JSON, unknown keys, bad values</exception>
    public static (ExtractionSources Sources, ExtractOptions Options) Read(string path)
    {
        Document doc;
        try
        {
            doc = JsonSerializer.Deserialize<Document>(File.ReadAllBytes(path), Json)
                ?? throw new CryoFlowDataException("empty manifest", new DataLocation(FilePath: path));
        }
        catch (JsonException x)
        {
            throw new CryoFlowDataException($"not an extraction manifest: {x.Message}", new DataLocation(FilePath: path, Line: x.LineNumber + 1, Field: x.Path), x);
        }
        if (doc.Kind != Kind) throw new CryoFlowDataException("not an extraction manifest", new DataLocation(FilePath: path, Field: "kind", Expected: Kind, Found: doc.Kind));
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string[] Resolve(string[]? paths) => [.. (paths ?? []).Select(p => Path.IsPathRooted(p) ? p : Path.Combine(folder, p))];
        var e = doc.Extract ?? throw new CryoFlowDataException("the manifest has no extraction settings", new DataLocation(FilePath: path, Field: "extract"));
        var options = new ExtractOptions
        {
            Box = e.Box, OutputBox = e.OutputBox, InvertContrast = e.InvertContrast, Normalise = e.Normalise, BackgroundRadius = e.BackgroundRadius,
            SubtractRamp = e.SubtractRamp, CoordinateScale = e.CoordinateScale, MinScore = e.MinScore, PixelSize = e.PixelSize, Threads = e.Threads,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException x)
        {
            throw new CryoFlowDataException(x.Message, new DataLocation(FilePath: path, Field: "extract"));
        }
        return (new ExtractionSources(Resolve(doc.Micrographs), Resolve(doc.Coordinates), Resolve(doc.Ctf)), options);
    }
}
