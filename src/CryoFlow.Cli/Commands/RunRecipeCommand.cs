using System.CommandLine;
using System.Text.Json;
using CryoFlow.Formats.Errors;
using CryoFlow.Pipeline.Reconstruction;

namespace CryoFlow.Cli.Commands;

/// <summary>
/// `cryoflow run RECIPE`: a declarative recipe (pipelines/*.json) that names the input, the
/// configuration preset, overrides and the output folder. Paths in the recipe are relative to the
/// recipe's own folder. Comments (//) and trailing commas are allowed; unknown keys are errors.
/// </summary>
public static class RunRecipeCommand
{
    private static readonly HashSet<string> Keys = ["pipeline", "input", "config", "set", "output", "datadir", "onBadParticle", "description"];

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
            return ReconstructCommand.Execute(io, r.Input, r.Output, r.Config, [.. r.Sets, .. pr.GetValue(sets) ?? []], r.DataDir, r.OnBadParticle, pr.GetValue(verbose));
        });
        return command;
    }

    internal sealed record Recipe(string Input, string Output, string? Config, IReadOnlyList<string> Sets, string? DataDir, BadParticlePolicy OnBadParticle);

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
            foreach (var p in root.EnumerateObject())
                if (!Keys.Contains(p.Name)) throw Error(path, p.Name, $"unknown key; a recipe has {string.Join(", ", Keys)}");
            string kind = Text(path, root, "pipeline") ?? "abinitio";
            if (kind != "abinitio") throw Error(path, "pipeline", $"unknown pipeline '{kind}' (abinitio)");
            string folder = Path.GetDirectoryName(path)!;
            string Resolve(string p) => Path.GetFullPath(Path.Combine(folder, p));
            string input = Text(path, root, "input") ?? throw Error(path, "input", "missing: the particle file (.star, .cs or .mrcs)");
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
            return new Recipe(Resolve(input), Resolve(output), config is null ? null : Resolve(config), sets, datadir is null ? null : Resolve(datadir), bad);
        }
    }

    private static string? Text(string path, JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(path, key, "must be a string");
    }

    private static CryoFlowDataException Error(string path, string? key, string problem) => new(problem, new DataLocation(FilePath: path, Field: key));
}
