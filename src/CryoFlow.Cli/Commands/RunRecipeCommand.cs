using System.CommandLine;
using System.Text.Json;
using CryoFlow.Formats.Errors;
using CryoFlow.Pipeline.Reconstruction;
using CryoFlow.Pipeline.Stages.Extract;

namespace CryoFlow.Cli.Commands;

/// <summary>
/// `cryoflow run RECIPE`: a declarative recipe (pipelines/*.json) that names the input, the
/// configuration preset, overrides and the output folder. Paths in the recipe are relative to the
/// recipe's own folder. Comments (//) and trailing commas are allowed; unknown keys are errors.
/// Pipeline "abinitio" reconstructs a particle file ("input"); "from-picks" extracts particles from
/// "micrographs" at "coords" with "ctf" and the "extract" settings, then reconstructs.
/// </summary>
public static class RunRecipeCommand
{
    private static readonly HashSet<string> Keys = ["pipeline", "input", "config", "set", "output", "datadir", "onBadParticle", "description"];
    private static readonly HashSet<string> PickKeys = ["micrographs", "coords", "ctf", "extract", "extractTo"];
    private static readonly HashSet<string> ExtractKeys = ["box", "bin", "outBox", "invertContrast", "normalise", "subtractRamp", "bgRadius", "coordinateScale", "minScore", "micrographApix"];

    public static Command Create(ConsoleIo io)
    {
        var recipe = new Argument<FileInfo>("recipe") { Description = "A recipe, e.g. pipelines/abinitio.json." };
        var sets = new Option<string[]>("--set") { Description = "Extra configuration overrides, applied after the recipe's." };
        var verbose = new Option<bool>("--verbose", "-v");
        var command = new Command("run", "Run a declarative pipeline recipe (pipelines/*.json).") { recipe, sets, verbose };
        command.SetAction(pr =>
        {
            string path = pr.GetValue(recipe)!.FullName;
            var r = Read(path);
            return ReconstructCommand.Execute(io, r.Input, r.Output, r.Config, [.. r.Sets, .. pr.GetValue(sets) ?? []], r.DataDir, r.OnBadParticle, pr.GetValue(verbose), r.Picks);
        });
        return command;
    }

    /// <param name="Input">the particle file (pipeline abinitio), or null</param>
    /// <param name="Picks">micrographs, picks and extraction settings (pipeline from-picks), or null</param>
    internal sealed record Recipe(string? Input, string Output, string? Config, IReadOnlyList<string> Sets, string? DataDir, BadParticlePolicy OnBadParticle,
        ExtractionRequest? Picks = null);

    internal static Recipe Read(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new CryoFlowDataException($"not valid JSON: {e.Message}", new DataLocation(FilePath: path, Line: e.LineNumber + 1));
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Error(path, null, "a recipe is a JSON object");
            string kind = Text(path, root, "pipeline") ?? "abinitio";
            if (kind is not ("abinitio" or "from-picks")) throw Error(path, "pipeline", $"unknown pipeline '{kind}' (abinitio, from-picks)");
            var allowed = kind == "from-picks" ? [.. Keys.Where(k => k != "input"), .. PickKeys] : Keys;
            foreach (var p in root.EnumerateObject())
                if (!allowed.Contains(p.Name)) throw Error(path, p.Name, $"unknown key; a {kind} recipe has {string.Join(", ", allowed)}");
            string folder = Path.GetDirectoryName(path)!;
            string Resolve(string p) => Path.GetFullPath(Path.Combine(folder, p));
            string? input = kind == "from-picks" ? null : Text(path, root, "input") ?? throw Error(path, "input", "missing: the particle file (.star, .cs or .mrcs)");
            var picks = kind == "from-picks" ? Picks(path, root, Resolve) : null;
            string output = Text(path, root, "output") ?? throw Error(path, "output", "missing: the run folder");
            string? config = Text(path, root, "config");
            string? datadir = Text(path, root, "datadir");
            var sets = new List<string>();
            if (root.TryGetProperty("set", out var s))
            {
                if (s.ValueKind != JsonValueKind.Object) throw Error(path, "set", "an object of configuration keys to values");
                foreach (var p in s.EnumerateObject())
                    sets.Add($"{p.Name}={(p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())}");
            }
            var bad = BadParticlePolicy.Skip;
            if (Text(path, root, "onBadParticle") is string b && !Enum.TryParse(b, ignoreCase: true, out bad))
                throw Error(path, "onBadParticle", $"'{b}' is not skip or fail");
            return new Recipe(input is null ? null : Resolve(input), Resolve(output), config is null ? null : Resolve(config), sets, datadir is null ? null : Resolve(datadir), bad, picks);
        }
    }

    /// <summary>The extraction of a from-picks recipe: "micrographs", "coords", "ctf" (a path or a list; patterns allowed), "extract", "extractTo".</summary>
    private static ExtractionRequest Picks(string path, JsonElement root, Func<string, string> resolve)
    {
        string[] Paths(string key, bool required)
        {
            if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
                return required ? throw Error(path, key, "missing: a path, a pattern or a list of them") : [];
            if (v.ValueKind == JsonValueKind.String) return [resolve(v.GetString()!)];
            if (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
                return [.. v.EnumerateArray().Select(e => resolve(e.GetString()!))];
            throw Error(path, key, "must be a path or a list of paths");
        }
        if (!root.TryGetProperty("extract", out var x) || x.ValueKind != JsonValueKind.Object)
            throw Error(path, "extract", "missing: an object with at least \"box\"");
        foreach (var p in x.EnumerateObject())
            if (!ExtractKeys.Contains(p.Name)) throw Error(path, "extract." + p.Name, $"unknown key; extract has {string.Join(", ", ExtractKeys)}");
        double? Number(string key)
        {
            if (!x.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            return v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw Error(path, "extract." + key, "must be a number");
        }
        bool Flag(string key, bool fallback)
        {
            if (!x.TryGetProperty(key, out var v)) return fallback;
            return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Error(path, "extract." + key, "must be true or false");
        }
        int? Whole(string key) => Number(key) is double d ? (d == Math.Floor(d) ? (int)d : throw Error(path, "extract." + key, "must be a whole number")) : null;
        try
        {
            int box = Whole("box") ?? throw Error(path, "extract.box", "missing: the box cut from the micrographs, px");
            if (Number("bin") is not null && Number("outBox") is not null) throw Error(path, "extract", "give bin or outBox, not both");
            var options = new ExtractOptions
            {
                Box = box,
                OutputBox = Whole("outBox") ?? (Number("bin") is double bin ? ExtractOptions.BinnedBox(box, bin) : null),
                InvertContrast = Flag("invertContrast", true),
                Normalise = Flag("normalise", true),
                SubtractRamp = Flag("subtractRamp", true),
                BackgroundRadius = Whole("bgRadius"),
                CoordinateScale = Number("coordinateScale") ?? 1,
                MinScore = Number("minScore"),
                PixelSize = Number("micrographApix"),
            };
            options.Validate();
            string? extractTo = Text(path, root, "extractTo");
            return new ExtractionRequest(new ExtractionSources(Paths("micrographs", true), Paths("coords", true), Paths("ctf", false)), options,
                extractTo is null ? null : resolve(extractTo));
        }
        catch (ArgumentException e)
        {
            throw Error(path, "extract", e.Message);
        }
    }

    private static string? Text(string path, JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(path, key, "must be a string");
    }

    private static CryoFlowDataException Error(string path, string? key, string problem) => new(problem, new DataLocation(FilePath: path, Field: key));
}
