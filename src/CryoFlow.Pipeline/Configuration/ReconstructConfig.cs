using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CryoFlow.Pipeline.Configuration;

/// <summary>
/// Everything `cryoflow reconstruct` can be told, as one immutable tree of typed records. The property defaults are the
/// built-in defaults and equal configs/default.json (a test keeps them in step). A run resolves its configuration in
/// layers: built-in defaults, then a preset file (after the presets it "extends"), then each <c>--set key.path=value</c>
/// in order; then every value is range-checked. The resolved tree is written to RUN/config.json
/// (<see cref="ToJson"/>) and fingerprinted by <see cref="ConfigHash"/>.
/// </summary>
public sealed record ReconstructConfig : IConfigSection
{
    /// <summary>Preset key naming a base preset, resolved against the preset's folder. Not an option: never written back.</summary>
    public const string ExtendsKey = "extends";

    /// <summary>Origin named in issues for values nobody overrode.</summary>
    public const string DefaultsOrigin = "built-in defaults";

    /// <summary>Origin named in issues for --set overrides.</summary>
    public const string SetOrigin = "--set";

    private static readonly JsonDocumentOptions FileOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        AllowDuplicateProperties = false,
    };

    /// <summary>The built-in defaults: the paper's parameters, with the reference code's where the paper is silent.</summary>
    public static ReconstructConfig Default { get; } = new();

    public DataOptions Data { get; init; } = new();

    public QuadratureOptions Quadrature { get; init; } = new();

    public ImportanceSamplingOptions ImportanceSampling { get; init; } = new();

    public OptimiserOptions Optimiser { get; init; } = new();

    public PriorOptions Prior { get; init; } = new();

    public ResolutionOptions Resolution { get; init; } = new();

    public EvaluationOptions Evaluation { get; init; } = new();

    public OutputOptions Output { get; init; } = new();

    public RunOptions Run { get; init; } = new();

    void IConfigSection.Validate(ConfigChecks check)
    {
        if (!Optimiser.Positivity && Prior.Kind == PriorKind.Exponential)
            check.Fail("optimiser.positivity", "false needs prior.kind uniform or car: the exponential prior is defined on non-negative density only");
        if (Run.Starts > 1 && Data.InitialMap is not null)
            check.Fail("run.starts", $"{Run.Starts} random starts and data.initialMap exclude each other: a run from a given map has one start");
    }

    // ---- loading ----

    /// <summary>
    /// Resolves a configuration: built-in defaults, then the preset file (if any, after the presets it extends), then
    /// each --set argument ("key.path=value"; the value is parsed as JSON when it is valid JSON, else taken as a
    /// string), then range validation.
    /// </summary>
    /// <exception cref="ConfigException">malformed JSON, unknown keys, wrong types, invalid schedules or values out of
    /// range; every issue names its origin (file or --set) and JSON path</exception>
    public static ReconstructConfig Load(string? presetPath, IEnumerable<string> sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var layers = new List<(string Origin, JsonObject Overlay)>();
        if (presetPath is not null) ReadPreset(presetPath, layers, []);
        foreach (string set in sets) layers.Add((SetOrigin, ParseSet(set)));
        return Resolve(layers);
    }

    /// <summary>Built-in defaults overlaid with one JSON document (e.g. a checkpoint's copy of RUN/config.json), validated.</summary>
    /// <param name="origin">named in issues</param>
    public static ReconstructConfig FromJson(string json, string origin = "<json>") => FromJson(json, origin, []);

    /// <summary>
    /// A resolved configuration (e.g. a checkpoint's) overlaid with --set arguments: what a resumed run uses when it is
    /// given new overrides but no preset.
    /// </summary>
    public static ReconstructConfig FromJson(string json, string origin, IEnumerable<string> sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var root = ParseDocument(json, origin);
        if (root.ContainsKey(ExtendsKey))
            throw new ConfigException(new ConfigIssue(ExtendsKey, "a JSON document read this way cannot extend a preset", origin));
        return Resolve([(origin, root), .. sets.Select(set => (SetOrigin, ParseSet(set)))]);
    }

    private static ReconstructConfig Resolve(List<(string Origin, JsonObject Overlay)> layers)
    {
        var tree = ConfigBinder.ToNode(Default);
        var provenance = new Dictionary<string, (string Origin, int Layer)>(StringComparer.Ordinal);
        var config = Default;
        for (int layer = 0; layer < layers.Count; layer++)
        {
            var (origin, overlay) = layers[layer];
            var issues = new List<ConfigIssue>();
            ConfigBinder.Merge(tree, overlay, typeof(ReconstructConfig), "", origin, issues, provenance, layer);
            // the tree was valid before this layer, so whatever fails to bind now came from it
            if (issues.Count == 0) config = (ReconstructConfig?)ConfigBinder.BindSection(tree, typeof(ReconstructConfig), "", issues) ?? config;
            if (issues.Count > 0) throw new ConfigException(issues.Select(i => i with { Origin = origin }).ToList());
        }
        var rangeIssues = new List<ConfigIssue>();
        ConfigBinder.ValidateTree(config, "", rangeIssues);
        if (rangeIssues.Count > 0)
            throw new ConfigException(rangeIssues.Select(i => i with { Origin = OriginOf(i.Path, provenance) }).ToList());
        return config;
    }

    /// <summary>
    /// The layer that last set the path or an enclosing one; failing that (a cross-field check such as a policy that needs
    /// a size), the last layer that set anything in the same section.
    /// </summary>
    private static string OriginOf(string path, Dictionary<string, (string Origin, int Layer)> provenance)
    {
        for (string p = path; p.Length > 0; p = Parent(p))
            if (provenance.TryGetValue(p, out var set)) return set.Origin;
        string section = Parent(path);
        var siblings = provenance.Where(e => section.Length == 0 || e.Key.StartsWith(section + ".", StringComparison.Ordinal)).ToList();
        return siblings.Count > 0 ? siblings.MaxBy(e => e.Value.Layer).Value.Origin : DefaultsOrigin;
    }

    private static string Parent(string path) => path.Contains('.') ? path[..path.LastIndexOf('.')] : "";

    private static void ReadPreset(string path, List<(string, JsonObject)> layers, HashSet<string> chain)
    {
        string full = Path.GetFullPath(path);
        if (!chain.Add(full))
            throw new ConfigException(new ConfigIssue(ExtendsKey, "presets extend each other in a cycle", path));
        if (!File.Exists(full)) throw new ConfigException(new ConfigIssue("", "preset file not found", path));
        var root = ParseDocument(File.ReadAllText(full), path);
        if (root.TryGetPropertyValue(ExtendsKey, out var extends))
        {
            var issues = new List<ConfigIssue>();
            string? basePath = ConfigBinder.ReadString(extends, ExtendsKey, issues);
            if (basePath is null) throw new ConfigException(issues.Select(i => i with { Origin = path }).ToList());
            root.Remove(ExtendsKey);
            ReadPreset(Path.Combine(Path.GetDirectoryName(path) ?? "", basePath), layers, chain);
        }
        layers.Add((path, root));
    }

    private static JsonObject ParseDocument(string json, string origin)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: FileOptions);
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : "";
            throw new ConfigException(new ConfigIssue(where, "invalid JSON: " + FirstSentence(e.Message), origin), e);
        }
        return root as JsonObject
            ?? throw new ConfigException(new ConfigIssue("", $"expected a JSON object at the top level, found {ConfigBinder.Describe(root)}", origin));
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut < 0 ? message : message[..cut]).TrimEnd();
    }

    /// <summary>"a.b.c=value" as the overlay {"a":{"b":{"c":value}}}.</summary>
    private static JsonObject ParseSet(string set)
    {
        int eq = set.IndexOf('=');
        string path = eq < 0 ? set : set[..eq];
        string[] keys = path.Split('.');
        if (eq < 0 || keys.Any(k => k.Length == 0))
            throw new ConfigException(new ConfigIssue(path, $"expected key.path=value, found \"{set}\"", SetOrigin));
        string text = set[(eq + 1)..];
        JsonNode? value;
        try
        {
            value = JsonNode.Parse(text, documentOptions: FileOptions);
        }
        catch (JsonException)
        {
            value = JsonValue.Create(text); // not JSON: a bare string such as nesterov or C2
        }
        var root = new JsonObject();
        var node = root;
        for (int i = 0; i < keys.Length - 1; i++)
        {
            var child = new JsonObject();
            node[keys[i]] = child;
            node = child;
        }
        node[keys[^1]] = value;
        return root;
    }

    // ---- writing ----

    /// <summary>Throws <see cref="ConfigException"/> when a value is out of range (for configurations built in code).</summary>
    public void Validate()
    {
        var issues = new List<ConfigIssue>();
        ConfigBinder.ValidateTree(this, "", issues);
        if (issues.Count > 0) throw new ConfigException(issues.Select(i => i with { Origin = "configuration" }).ToList());
    }

    /// <summary>The resolved configuration as indented JSON: every key, in declaration order, no comments (RUN/config.json).</summary>
    public string ToJson() => ConfigBinder.ToNode(this).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    /// <summary>Compact JSON with object keys in ordinal order: the same text for equal configurations on any machine.</summary>
    public string CanonicalJson()
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
            WriteCanonical(writer, ConfigBinder.ToNode(this));
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Lower-case hex SHA-256 of <see cref="CanonicalJson"/>; checkpoints refuse to resume under a different one.</summary>
    public string ConfigHash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson())));

    private static void WriteCanonical(Utf8JsonWriter w, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                w.WriteStartObject();
                foreach (var (key, value) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    w.WritePropertyName(key);
                    WriteCanonical(w, value);
                }
                w.WriteEndObject();
                break;
            case JsonArray a:
                w.WriteStartArray();
                foreach (var item in a) WriteCanonical(w, item);
                w.WriteEndArray();
                break;
            case null:
                w.WriteNullValue();
                break;
            default:
                node.WriteTo(w);
                break;
        }
    }
}
