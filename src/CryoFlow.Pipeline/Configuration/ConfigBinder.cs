using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using CryoFlow.Numerics.Optimisation;

namespace CryoFlow.Pipeline.Configuration;

/// <summary>A record of options bound from one JSON object; checks its own ranges.</summary>
internal interface IConfigSection
{
    /// <summary>Adds an issue for every value out of range (paths are relative to the section).</summary>
    void Validate(ConfigChecks check);
}

/// <summary>
/// Maps option records to and from JSON trees by reflection over their public settable properties (camelCase keys,
/// declaration order), so a new option is one property with a default and nothing else. Supported property types: int,
/// double, bool, string, enums (camelCase names), their nullable forms, <see cref="Schedule"/> (read by
/// <see cref="Schedule.Parse(JsonElement, string)"/>, written by <see cref="Schedule.ToJson"/>) and nested sections.
/// Every problem is collected as a <see cref="ConfigIssue"/> with its JSON path.
/// </summary>
internal static class ConfigBinder
{
    private static readonly ConcurrentDictionary<Type, Key[]> KeyCache = new();
    private static readonly NullabilityInfoContext Nullability = new();

    /// <summary>One option: its JSON name, its property and whether null is a legal value.</summary>
    internal sealed record Key(string Name, PropertyInfo Property, bool Nullable)
    {
        public Type ValueType => System.Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;
    }

    internal static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    internal static string JsonName(string propertyName) => JsonNamingPolicy.CamelCase.ConvertName(propertyName);

    internal static bool IsSection(Type t) => typeof(IConfigSection).IsAssignableFrom(t) && t.IsClass;

    internal static IReadOnlyList<Key> Keys(Type section) => KeyCache.GetOrAdd(section, static t =>
    {
        lock (Nullability)
        {
            return t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.SetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0)
                .OrderBy(p => p.MetadataToken)
                .Select(p => new Key(JsonName(p.Name), p,
                    System.Nullable.GetUnderlyingType(p.PropertyType) is not null || Nullability.Create(p).WriteState == NullabilityState.Nullable))
                .ToArray();
        }
    });

    private static Key? Find(Type section, string name) => Keys(section).FirstOrDefault(k => k.Name == name);

    /// <summary>Every dotted key path below a section type (schedules are leaves).</summary>
    internal static IEnumerable<string> AllPaths(Type section, string path = "")
    {
        foreach (var k in Keys(section))
        {
            string p = Join(path, k.Name);
            yield return p;
            if (IsSection(k.ValueType))
                foreach (string q in AllPaths(k.ValueType, p)) yield return q;
        }
    }

    // ---- records -> JSON ----

    /// <summary>The section as a JSON object, every key present (null where unset), in declaration order.</summary>
    internal static JsonObject ToNode(object section)
    {
        var o = new JsonObject();
        foreach (var k in Keys(section.GetType())) o[k.Name] = ValueToNode(k.Property.GetValue(section));
        return o;
    }

    private static JsonNode? ValueToNode(object? value) => value switch
    {
        null => null,
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        Enum e => JsonValue.Create(JsonName(e.ToString())),
        Schedule s => JsonNode.Parse(s.ToJson()),
        IConfigSection section => ToNode(section),
        _ => throw new InvalidOperationException($"option type {value.GetType()} is not supported by the configuration binder"),
    };

    // ---- JSON -> records ----

    /// <summary>A new section of the given type with the object's keys applied over the section's defaults; null if any issue.</summary>
    internal static object? BindSection(JsonObject obj, Type type, string path, List<ConfigIssue> issues)
    {
        int before = issues.Count;
        object section = Activator.CreateInstance(type)
            ?? throw new InvalidOperationException($"cannot create {type}");
        foreach (var (name, node) in obj)
        {
            string p = Join(path, name);
            var key = Find(type, name);
            if (key is null)
            {
                issues.Add(UnknownKey(type, name, p));
                continue;
            }
            if (TryRead(node, key, p, issues, out object? value)) key.Property.SetValue(section, value);
        }
        return issues.Count == before ? section : null;
    }

    private static bool TryRead(JsonNode? node, Key key, string path, List<ConfigIssue> issues, out object? value)
    {
        int before = issues.Count;
        value = null;
        Type t = key.ValueType;
        if (node is null)
        {
            if (!key.Nullable) issues.Add(new ConfigIssue(path, $"expected {Expected(key)}, found null"));
            return key.Nullable;
        }
        if (t == typeof(int)) value = ReadInt(node, path, issues);
        else if (t == typeof(double)) value = ReadDouble(node, path, issues);
        else if (t == typeof(bool)) value = ReadBool(node, path, issues);
        else if (t == typeof(string)) value = ReadString(node, path, issues);
        else if (t.IsEnum) value = ReadEnum(node, t, path, issues);
        else if (t == typeof(Schedule)) value = ReadSchedule(node, path, issues);
        else if (IsSection(t))
        {
            if (node is JsonObject obj) value = BindSection(obj, t, path, issues);
            else issues.Add(new ConfigIssue(path, $"expected an object, found {Describe(node)}"));
        }
        else throw new InvalidOperationException($"option {path} has type {t}, which the configuration binder does not support");
        return issues.Count == before;
    }

    /// <summary>"an integer", "a number or null", "one of sagd, sgd, ..."...</summary>
    internal static string Expected(Key key)
    {
        Type t = key.ValueType;
        string s = t == typeof(int) ? "an integer"
            : t == typeof(double) ? "a number"
            : t == typeof(bool) ? "true or false"
            : t == typeof(string) ? "a string"
            : t.IsEnum ? "one of " + string.Join(", ", EnumNames(t))
            : t == typeof(Schedule) ? "a schedule (a number or a \"type\" object)"
            : "an object";
        return key.Nullable ? s + " or null" : s;
    }

    private static IEnumerable<string> EnumNames(Type t) => Enum.GetNames(t).Select(JsonName);

    /// <summary>
    /// A schedule in the Numerics JSON shape; its problems (unknown type or member, wrong kinds, values out of range)
    /// become one issue at the path of the offending member.
    /// </summary>
    private static Schedule? ReadSchedule(JsonNode node, string path, List<ConfigIssue> issues)
    {
        using var document = JsonDocument.Parse(node.ToJsonString());
        try
        {
            return Schedule.Parse(document.RootElement, path);
        }
        catch (JsonException e)
        {
            // Schedule.Parse reports "PATH: PROBLEM" with Path set; the issue carries the two apart
            string at = e.Path ?? path;
            string problem = e.Message.StartsWith(at + ": ", StringComparison.Ordinal) ? e.Message[(at.Length + 2)..] : e.Message;
            issues.Add(new ConfigIssue(at, problem));
            return null;
        }
    }

    internal static double? ReadDouble(JsonNode? node, string path, List<ConfigIssue> issues)
    {
        if (Kind(node) != JsonValueKind.Number)
        {
            issues.Add(new ConfigIssue(path, $"expected a number, found {Describe(node)}"));
            return null;
        }
        using var doc = JsonDocument.Parse(node!.ToJsonString());
        double d = doc.RootElement.GetDouble();
        if (!double.IsFinite(d))
        {
            issues.Add(new ConfigIssue(path, $"expected a finite number, found {node.ToJsonString()}"));
            return null;
        }
        return d;
    }

    internal static int? ReadInt(JsonNode? node, string path, List<ConfigIssue> issues)
    {
        if (Kind(node) == JsonValueKind.Number)
        {
            using var doc = JsonDocument.Parse(node!.ToJsonString());
            if (doc.RootElement.TryGetInt32(out int i)) return i;
            // 3e2 and 200.0 are integers too
            if (doc.RootElement.TryGetDouble(out double d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue) return (int)d;
        }
        issues.Add(new ConfigIssue(path, $"expected an integer, found {Describe(node)}"));
        return null;
    }

    internal static bool? ReadBool(JsonNode? node, string path, List<ConfigIssue> issues)
    {
        switch (Kind(node))
        {
            case JsonValueKind.True: return true;
            case JsonValueKind.False: return false;
            default:
                issues.Add(new ConfigIssue(path, $"expected true or false, found {Describe(node)}"));
                return null;
        }
    }

    internal static string? ReadString(JsonNode? node, string path, List<ConfigIssue> issues)
    {
        if (Kind(node) == JsonValueKind.String) return node!.GetValue<string>();
        issues.Add(new ConfigIssue(path, $"expected a string, found {Describe(node)}"));
        return null;
    }

    internal static object? ReadEnum(JsonNode? node, Type enumType, string path, List<ConfigIssue> issues)
    {
        var names = EnumNames(enumType).ToArray();
        if (Kind(node) == JsonValueKind.String)
        {
            string s = node!.GetValue<string>();
            foreach (string name in Enum.GetNames(enumType))
                if (string.Equals(JsonName(name), s, StringComparison.OrdinalIgnoreCase)) return Enum.Parse(enumType, name);
            string hint = Suggest(s, names) is string h ? $"; did you mean {h}?" : "";
            issues.Add(new ConfigIssue(path, $"expected one of {string.Join(", ", names)}, found \"{s}\"{hint}"));
            return null;
        }
        issues.Add(new ConfigIssue(path, $"expected one of {string.Join(", ", names)}, found {Describe(node)}"));
        return null;
    }

    private static JsonValueKind Kind(JsonNode? node) => node?.GetValueKind() ?? JsonValueKind.Null;

    /// <summary>A short description of a JSON value for messages: "null", "an object", "the string \"x\"", "the number 3".</summary>
    internal static string Describe(JsonNode? node)
    {
        switch (Kind(node))
        {
            case JsonValueKind.Null: return "null";
            case JsonValueKind.Object: return "an object";
            case JsonValueKind.Array: return "an array";
            case JsonValueKind.True: return "true";
            case JsonValueKind.False: return "false";
            case JsonValueKind.String:
                string s = node!.GetValue<string>();
                return $"the string \"{(s.Length > 40 ? s[..40] + "..." : s)}\"";
            default:
                return "the number " + node!.ToJsonString();
        }
    }

    // ---- layering ----

    /// <summary>
    /// Applies an overlay (a preset file or one --set) onto the resolved tree. Objects of sections merge key by key;
    /// a schedule object with a "type" replaces the schedule, one without patches its fields; any other value
    /// replaces. Unknown keys and non-objects where a section is expected become issues; values are type-checked
    /// later by binding the result. Records which paths the overlay (layer number layer) set.
    /// </summary>
    internal static void Merge(JsonObject target, JsonObject overlay, Type type, string path, string origin,
        List<ConfigIssue> issues, Dictionary<string, (string Origin, int Layer)> provenance, int layer)
    {
        foreach (var (name, node) in overlay)
        {
            string p = Join(path, name);
            var key = Find(type, name);
            if (key is null)
            {
                issues.Add(UnknownKey(type, name, p));
                continue;
            }
            if (IsSection(key.ValueType))
            {
                if (node is JsonObject sub && target[name] is JsonObject existing)
                    Merge(existing, sub, key.ValueType, p, origin, issues, provenance, layer);
                else
                    issues.Add(new ConfigIssue(p, $"expected an object, found {Describe(node)}"));
                continue;
            }
            if (key.ValueType == typeof(Schedule) && node is JsonObject patch && !patch.ContainsKey("type")
                && target[name] is JsonObject schedule)
            {
                foreach (var (field, value) in patch) schedule[field] = value?.DeepClone();
                provenance[p] = (origin, layer);
                continue;
            }
            target[name] = node?.DeepClone();
            provenance[p] = (origin, layer);
        }
    }

    private static ConfigIssue UnknownKey(Type section, string name, string path)
    {
        string? hint = Suggest(name, Keys(section).Select(k => k.Name));
        if (hint is null)
        {
            // the right name in the wrong place, e.g. --set minibatchSize=100 for data.minibatchSize
            hint = AllPaths(typeof(ReconstructConfig))
                .Where(q => string.Equals(q[(q.LastIndexOf('.') + 1)..], name, StringComparison.OrdinalIgnoreCase))
                .FirstOrDefault();
        }
        return new ConfigIssue(path, hint is null ? "unknown key" : $"unknown key; did you mean {hint}?");
    }

    /// <summary>The candidate nearest to key by edit distance (ignoring case), when near enough to be a typo.</summary>
    internal static string? Suggest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string c in candidates)
        {
            int d = EditDistance(key.ToLowerInvariant(), c.ToLowerInvariant());
            if (d < bestDistance)
            {
                (best, bestDistance) = (c, d);
            }
        }
        int allowed = Math.Max(1, Math.Min(3, key.Length / 3));
        return bestDistance <= allowed ? best : null;
    }

    /// <summary>Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent transpositions.</summary>
    private static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }

    // ---- validation ----

    /// <summary>Range checks of a section and every section below it, plus null checks (schedules are valid once built).</summary>
    internal static void ValidateTree(object section, string path, List<ConfigIssue> issues)
    {
        ((IConfigSection)section).Validate(new ConfigChecks(path, issues));
        foreach (var k in Keys(section.GetType()))
        {
            string p = Join(path, k.Name);
            object? value = k.Property.GetValue(section);
            if (value is null)
            {
                if (!k.Nullable) issues.Add(new ConfigIssue(p, $"expected {Expected(k)}, found null"));
            }
            else if (value is IConfigSection)
            {
                ValidateTree(value, p, issues);
            }
        }
    }
}

/// <summary>Range checks for one section; property names are turned into JSON paths.</summary>
internal sealed class ConfigChecks(string path, List<ConfigIssue> issues)
{
    private string P(string property) => ConfigBinder.Join(path, ConfigBinder.JsonName(property));

    private static string F(double v) => v switch
    {
        double.PositiveInfinity => "+inf",
        double.NegativeInfinity => "-inf",
        _ => v.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string Interval(double lo, double hi, bool lowOpen, bool highOpen) =>
        $"{(lowOpen || double.IsInfinity(lo) ? "(" : "[")}{F(lo)}, {F(hi)}{(highOpen || double.IsInfinity(hi) ? ")" : "]")}";

    public void Fail(string property, string problem) => issues.Add(new ConfigIssue(P(property), problem));

    public void AtLeast(string property, long value, long min)
    {
        if (value < min) Fail(property, $"must be >= {min} (found {value})");
    }

    public void AtLeast(string property, double value, double min)
    {
        if (!(value >= min)) Fail(property, $"must be >= {F(min)} (found {F(value)})");
    }

    public void Positive(string property, double value)
    {
        if (!(value > 0)) Fail(property, $"must be > 0 (found {F(value)})");
    }

    public void Positive(string property, double? value)
    {
        if (value is double v) Positive(property, v);
    }

    public void InRange(string property, double value, double lo, double hi, bool lowOpen = false, bool highOpen = false)
    {
        bool ok = (lowOpen ? value > lo : value >= lo) && (highOpen ? value < hi : value <= hi);
        if (!ok) Fail(property, $"must be in {Interval(lo, hi, lowOpen, highOpen)} (found {F(value)})");
    }

    /// <summary>Every value the schedule can take (<see cref="Schedule.Bounds"/>) lies in the interval.</summary>
    public void ScheduleValues(string property, Schedule? schedule, double lo, double hi, bool lowOpen = false, bool highOpen = false)
    {
        if (schedule is null) return;
        var b = schedule.Bounds();
        if (!b.Within(lo, hi, lowOpen, highOpen))
            Fail(property, $"values must be in {Interval(lo, hi, lowOpen, highOpen)}; this schedule spans " +
                Interval(b.Infimum, b.Supremum, !b.InfimumAttained, !b.SupremumAttained));
    }
}
