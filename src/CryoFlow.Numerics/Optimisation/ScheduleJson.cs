using System.Collections.Immutable;
using System.Text.Json;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// Reads schedules from JSON with errors that name the JSON path. Every member is checked: unknown, duplicated
/// or missing members and wrong kinds are errors, and range errors raised by the schedule constructors are
/// reported at the member that holds the bad value.
/// </summary>
internal static class ScheduleJson
{
    public static readonly ImmutableArray<string> TypeNames = ["constant", "piecewise", "exponential", "power", "staircase", "annealing", "phases", "max", "min", "clamp"];

    public static Schedule Read(JsonElement element, string path)
    {
        if (element.ValueKind == JsonValueKind.Number)
            return Build(path, () => new Schedule.Constant(element.GetDouble()));
        if (element.ValueKind != JsonValueKind.Object)
            throw Error(path, $"a schedule must be an object with a \"type\" member or a number (found {Kind(element)})");

        var o = new JsonMembers(element, path, "a schedule");
        string type = o.String("type");
        Schedule schedule = type switch
        {
            "constant" => Build(path, () => new Schedule.Constant(o.Number("value"))),
            "piecewise" => ReadPiecewise(o, path),
            "exponential" => Build(path, () => new Schedule.Exponential(
                o.Number("initial"), o.Number("factor"), o.OptionalInteger("every") ?? 1, o.OptionalBoolean("stepped") ?? false,
                o.OptionalInteger("offset") ?? 0, o.OptionalNumber("floor"))),
            "power" => Build(path, () => new Schedule.Power(
                o.Number("initial"), o.Number("exponent"), o.Number("scale"), o.OptionalInteger("offset") ?? 0, o.OptionalNumber("floor"))),
            "staircase" => Build(path, () => new Schedule.Staircase(
                o.Number("start"), o.Number("step"), o.Integer("every"), o.OptionalInteger("offset") ?? 0, o.OptionalNumber("limit"))),
            "annealing" => Build(path, () => new Schedule.Annealing(
                o.Number("base"), o.Number("scale"), o.OptionalInteger("every") ?? 1, o.OptionalInteger("offset") ?? 0, o.OptionalNumber("floor"))),
            "phases" => ReadPhases(o, path),
            "max" => Build(path, () => new Schedule.Max(ReadItems(o, path))),
            "min" => Build(path, () => new Schedule.Min(ReadItems(o, path))),
            "clamp" => Build(path, () => new Schedule.Clamp(Read(o.Element("inner"), path + ".inner"), o.OptionalNumber("lower"), o.OptionalNumber("upper"))),
            _ => throw Error(path + ".type", $"unknown schedule type \"{type}\"; expected one of {string.Join(", ", TypeNames)}"),
        };
        o.RejectUnknown($"a {type} schedule");
        return schedule;
    }

    private static Schedule.Piecewise ReadPiecewise(JsonMembers o, string path)
    {
        var interpolation = o.OptionalString("interpolation") switch
        {
            null or "step" => ScheduleInterpolation.Step,
            "linear" => ScheduleInterpolation.Linear,
            var other => throw Error(path + ".interpolation", $"must be \"step\" or \"linear\" (found \"{other}\")"),
        };
        var array = o.Array("points");
        var points = new List<Breakpoint>();
        int i = 0;
        foreach (var e in array.EnumerateArray())
        {
            var p = new JsonMembers(e, $"{path}.points[{i++}]", "a breakpoint");
            points.Add(new Breakpoint(p.Integer("at"), p.Number("value")));
            p.RejectUnknown("a breakpoint");
        }
        return Build(path, () => new Schedule.Piecewise(points, interpolation));
    }

    private static Schedule.Phases ReadPhases(JsonMembers o, string path)
    {
        var phases = new List<Phase>();
        int i = 0;
        foreach (var e in o.Array("phases").EnumerateArray())
        {
            string at = $"{path}.phases[{i++}]";
            var p = new JsonMembers(e, at, "a phase");
            phases.Add(new Phase(p.Integer("from"), Read(p.Element("schedule"), at + ".schedule"), p.OptionalBoolean("restart") ?? false));
            p.RejectUnknown("a phase");
        }
        return Build(path, () => new Schedule.Phases(phases));
    }

    private static List<Schedule> ReadItems(JsonMembers o, string path)
    {
        var items = new List<Schedule>();
        int i = 0;
        foreach (var e in o.Array("items").EnumerateArray())
        {
            items.Add(Read(e, $"{path}.items[{i}]"));
            i++;
        }
        return items;
    }

    /// <summary>Runs a constructor, moving its range errors to the JSON path of the member concerned.</summary>
    private static T Build<T>(string path, Func<T> construct)
    {
        try
        {
            return construct();
        }
        catch (InvalidSettingException e)
        {
            throw Error(path + "." + e.Field, e.Problem);
        }
    }

    public static void WriteItems(Utf8JsonWriter writer, string type, ImmutableArray<Schedule> items)
    {
        writer.WriteStartObject();
        writer.WriteString("type", type);
        writer.WriteStartArray("items");
        foreach (var s in items) s.WriteTo(writer);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static JsonException Error(string path, string problem) => new($"{path}: {problem}", path, null, null);

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    /// <summary>The members of one JSON object, read by name, with a record of which were read.</summary>
    private sealed class JsonMembers
    {
        private readonly Dictionary<string, JsonElement> _members = new(StringComparer.Ordinal);
        private readonly List<string> _read = [];
        private readonly string _path;

        /// <param name="what">what the object should be, for messages ("a schedule", "a breakpoint")</param>
        public JsonMembers(JsonElement element, string path, string what)
        {
            _path = path;
            if (element.ValueKind != JsonValueKind.Object) throw Error(path, $"{what} must be an object (found {Kind(element)})");
            foreach (var p in element.EnumerateObject())
                if (!_members.TryAdd(p.Name, p.Value)) throw Error($"{path}.{p.Name}", "is given twice");
        }

        public JsonElement Element(string name) =>
            Optional(name) ?? throw Error($"{_path}.{name}", "is required");

        public double Number(string name) => OptionalNumber(name) ?? throw Error($"{_path}.{name}", "is required");

        public double? OptionalNumber(string name)
        {
            if (Optional(name) is not JsonElement e) return null;
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double v))
                throw Error($"{_path}.{name}", $"must be a number (found {Kind(e)})");
            return v;
        }

        public int Integer(string name) => OptionalInteger(name) ?? throw Error($"{_path}.{name}", "is required");

        /// <summary>A whole number; 150.0 and 1.5e2 are whole numbers too, as everywhere else in the configuration.</summary>
        public int? OptionalInteger(string name)
        {
            if (Optional(name) is not JsonElement e) return null;
            if (e.ValueKind == JsonValueKind.Number)
            {
                if (e.TryGetInt32(out int v)) return v;
                if (e.TryGetDouble(out double d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue) return (int)d;
            }
            throw Error($"{_path}.{name}", $"must be a whole number of iterations (found {(e.ValueKind == JsonValueKind.Number ? e.GetRawText() : Kind(e))})");
        }

        public bool? OptionalBoolean(string name)
        {
            if (Optional(name) is not JsonElement e) return null;
            return e.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error($"{_path}.{name}", $"must be true or false (found {Kind(e)})"),
            };
        }

        public string String(string name) => OptionalString(name) ?? throw Error($"{_path}.{name}", "is required");

        public string? OptionalString(string name)
        {
            if (Optional(name) is not JsonElement e) return null;
            return e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Error($"{_path}.{name}", $"must be a string (found {Kind(e)})");
        }

        public JsonElement Array(string name)
        {
            var e = Element(name);
            return e.ValueKind == JsonValueKind.Array ? e : throw Error($"{_path}.{name}", $"must be an array (found {Kind(e)})");
        }

        /// <param name="what">the kind of object, for the message ("a staircase schedule")</param>
        public void RejectUnknown(string what)
        {
            foreach (var name in _members.Keys)
                if (!_read.Contains(name))
                    throw Error($"{_path}.{name}", $"is not a member of {what} (its members: {string.Join(", ", _read)})");
        }

        private JsonElement? Optional(string name)
        {
            if (!_read.Contains(name)) _read.Add(name);
            return _members.TryGetValue(name, out var e) && e.ValueKind != JsonValueKind.Null ? e : null;
        }
    }
}
