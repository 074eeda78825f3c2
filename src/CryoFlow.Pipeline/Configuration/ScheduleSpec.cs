using System.Globalization;
using System.Text.Json.Nodes;

namespace CryoFlow.Pipeline.Configuration;

/// <summary>
/// A value that changes with an integer clock (usually the iteration tau, counted from 0; each option documents its
/// clock), written in the configuration as a JSON object with a "type" discriminator:
/// <list type="bullet">
/// <item><c>{"type":"constant","value":v}</c></item>
/// <item><c>{"type":"staircase","start":a,"step":b,"every":n,"min":lo,"max":hi}</c>: a + b floor(x/n), clamped
/// (min and max optional).</item>
/// <item><c>{"type":"exponential","start":a,"factor":f,"every":n,"min":lo,"max":hi,"delay":d,"continuous":false}</c>:
/// a f^k with k = floor((x-d)/n) for x &gt;= d and 0 before (k = (x-d)/n unfloored when continuous), clamped; min,
/// max, delay (0) and continuous (false) optional.</item>
/// <item><c>{"type":"piecewise","points":[[x0,v0],[x1,v1],...],"interpolation":"step"|"linear"}</c>: held at v0
/// before x0 and at the last value after the last point; "step" holds each value until the next point.</item>
/// <item><c>{"type":"annealing","base":b,"scale":s,"every":n,"delay":d,"min":lo}</c>: b^(s / max(1, floor((x-d)/n))),
/// at least lo; the shape of the importance-sampling temperatures (every 1, delay 0, min optional).</item>
/// </list>
/// A bare number is read as a constant schedule. Immutable value types with value equality. Construction never throws; <see cref="Problems"/> lists what makes a
/// schedule invalid and the configuration loader reports those with the JSON path.
/// </summary>
public abstract record ScheduleSpec
{
    private protected ScheduleSpec()
    {
    }

    /// <summary>The JSON "type" names, in the order the documentation lists them.</summary>
    public static IReadOnlyList<string> TypeNames { get; } = ["constant", "staircase", "exponential", "piecewise", "annealing"];

    /// <summary>The value at clock x (iteration or stage, &gt;= 0).</summary>
    public abstract double At(int iteration);

    /// <summary>Infimum and supremum over all clock values &gt;= 0 (for range validation).</summary>
    public abstract ScheduleBounds Bounds();

    /// <summary>What makes this schedule invalid (each names its field); empty when valid.</summary>
    public abstract IReadOnlyList<string> Problems();

    /// <summary>Throws <see cref="ArgumentException"/> listing <see cref="Problems"/> when there are any.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new ArgumentException("invalid schedule: " + string.Join("; ", problems));
    }

    private protected static void CheckClock(int x)
    {
        if (x < 0) throw new ArgumentOutOfRangeException(nameof(x), x, "schedule clock must be >= 0");
    }

    private protected static double Clamp(double v, double? min, double? max)
    {
        if (max is double hi && v > hi) v = hi;
        if (min is double lo && v < lo) v = lo;
        return v;
    }

    /// <summary>Clamps a raw bound; a bound clamped to a finite limit is reached by a monotone unbounded sequence.</summary>
    private protected static (double Value, bool Attained) ClampBound(double raw, bool attained, double? min, double? max)
    {
        double v = Clamp(raw, min, max);
        return (v, attained || v != raw);
    }

    private protected static void Finite(List<string> problems, string field, double value)
    {
        if (!double.IsFinite(value)) problems.Add($"{field} must be finite (found {Fmt(value)})");
    }

    private protected static void MinMax(List<string> problems, double? min, double? max)
    {
        if (min is double lo) Finite(problems, "min", lo);
        if (max is double hi) Finite(problems, "max", hi);
        if (min is double a && max is double b && a > b) problems.Add($"min ({Fmt(a)}) must not exceed max ({Fmt(b)})");
    }

    internal static string Fmt(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    // ---- JSON ----

    /// <summary>The JSON object form (optional fields only when they differ from their defaults).</summary>
    public abstract JsonObject ToJson();

    /// <summary>Reads a schedule object; problems (unknown type or field, wrong types, invalid values) go to issues with paths under path.</summary>
    internal static ScheduleSpec? FromJson(JsonNode? node, string path, List<ConfigIssue> issues)
    {
        if (node is JsonValue && node.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            // shorthand: a bare number is a constant schedule (--set resolution.maxFrequency=0.05)
            double? v = ConfigBinder.ReadDouble(node, path, issues);
            return v is double value ? new ConstantSchedule(value) : null;
        }
        if (node is not JsonObject obj)
        {
            issues.Add(new ConfigIssue(path, $"expected a schedule: a number or an object {{\"type\": {string.Join("|", TypeNames)}, ...}}, found {ConfigBinder.Describe(node)}"));
            return null;
        }
        if (!obj.TryGetPropertyValue("type", out var typeNode) || typeNode is null)
        {
            issues.Add(new ConfigIssue(path, $"schedule object needs a \"type\" ({string.Join(", ", TypeNames)})"));
            return null;
        }
        string? type = ConfigBinder.ReadString(typeNode, ConfigBinder.Join(path, "type"), issues);
        if (type is null) return null;
        var r = new FieldReader(obj, path, issues);
        ScheduleSpec? spec = type switch
        {
            "constant" => new ConstantSchedule(r.Double("value")),
            "staircase" => new StaircaseSchedule(r.Double("start"), r.Double("step"), r.Int("every"), r.OptionalDouble("min"), r.OptionalDouble("max")),
            "exponential" => new ExponentialSchedule(r.Double("start"), r.Double("factor"), r.Int("every"), r.OptionalDouble("min"), r.OptionalDouble("max"),
                r.OptionalInt("delay") ?? 0, r.OptionalBool("continuous") ?? false),
            "piecewise" => new PiecewiseSchedule(r.Points("points"), r.Interpolation("interpolation")),
            "annealing" => new AnnealingSchedule(r.Double("base"), r.Double("scale"), r.OptionalInt("every") ?? 1, r.OptionalInt("delay") ?? 0, r.OptionalDouble("min")),
            _ => null,
        };
        if (spec is null)
        {
            string hint = ConfigBinder.Suggest(type, TypeNames) is string s ? $"; did you mean {s}?" : "";
            issues.Add(new ConfigIssue(ConfigBinder.Join(path, "type"), $"unknown schedule type \"{type}\" (expected one of {string.Join(", ", TypeNames)}){hint}"));
            return null;
        }
        r.RejectUnread(type);
        if (r.Failed) return null;
        var problems = spec.Problems();
        foreach (string p in problems) issues.Add(new ConfigIssue(path, $"{type} schedule: {p}"));
        return problems.Count > 0 ? null : spec;
    }

    /// <summary>Reads the fields of one schedule object and remembers which were read, so the rest are unknown keys.</summary>
    private sealed class FieldReader(JsonObject obj, string path, List<ConfigIssue> issues)
    {
        private readonly HashSet<string> _read = ["type"];
        private readonly int _issuesAtStart = issues.Count;

        public bool Failed => issues.Count > _issuesAtStart;

        private JsonNode? Field(string name, bool required, out bool present)
        {
            _read.Add(name);
            present = obj.TryGetPropertyValue(name, out var node);
            if (!present && required) issues.Add(new ConfigIssue(ConfigBinder.Join(path, name), "missing (required by this schedule type)"));
            return node;
        }

        public double Double(string name)
        {
            var n = Field(name, true, out bool present);
            return present ? ConfigBinder.ReadDouble(n, ConfigBinder.Join(path, name), issues) ?? double.NaN : double.NaN;
        }

        public int Int(string name)
        {
            var n = Field(name, true, out bool present);
            return present ? ConfigBinder.ReadInt(n, ConfigBinder.Join(path, name), issues) ?? 0 : 0;
        }

        public double? OptionalDouble(string name)
        {
            var n = Field(name, false, out bool present);
            return present && n is not null ? ConfigBinder.ReadDouble(n, ConfigBinder.Join(path, name), issues) : null;
        }

        public int? OptionalInt(string name)
        {
            var n = Field(name, false, out bool present);
            return present && n is not null ? ConfigBinder.ReadInt(n, ConfigBinder.Join(path, name), issues) : null;
        }

        public bool? OptionalBool(string name)
        {
            var n = Field(name, false, out bool present);
            return present && n is not null ? ConfigBinder.ReadBool(n, ConfigBinder.Join(path, name), issues) : null;
        }

        public ScheduleInterpolation Interpolation(string name)
        {
            var n = Field(name, false, out bool present);
            if (!present || n is null) return ScheduleInterpolation.Step;
            object? v = ConfigBinder.ReadEnum(n, typeof(ScheduleInterpolation), ConfigBinder.Join(path, name), issues);
            return v is ScheduleInterpolation i ? i : ScheduleInterpolation.Step;
        }

        public IReadOnlyList<SchedulePoint> Points(string name)
        {
            var n = Field(name, true, out bool present);
            string p = ConfigBinder.Join(path, name);
            if (!present) return [];
            if (n is not JsonArray array)
            {
                issues.Add(new ConfigIssue(p, $"expected an array of [iteration, value] pairs, found {ConfigBinder.Describe(n)}"));
                return [];
            }
            var points = new List<SchedulePoint>(array.Count);
            for (int i = 0; i < array.Count; i++)
            {
                string pi = $"{p}[{i}]";
                if (array[i] is not JsonArray pair || pair.Count != 2)
                {
                    issues.Add(new ConfigIssue(pi, $"expected an [iteration, value] pair, found {ConfigBinder.Describe(array[i])}"));
                    continue;
                }
                int? x = ConfigBinder.ReadInt(pair[0], pi + "[0]", issues);
                double? v = ConfigBinder.ReadDouble(pair[1], pi + "[1]", issues);
                if (x is int xi && v is double vi) points.Add(new SchedulePoint(xi, vi));
            }
            return points;
        }

        public void RejectUnread(string type)
        {
            var known = _read.ToList();
            foreach (var (key, _) in obj)
            {
                if (_read.Contains(key)) continue;
                string hint = ConfigBinder.Suggest(key, known) is string s ? $"; did you mean {s}?" : "";
                issues.Add(new ConfigIssue(ConfigBinder.Join(path, key), $"unknown key for a {type} schedule{hint}"));
            }
        }
    }
}

/// <summary>Infimum and supremum of a schedule over the clock values &gt;= 0, and whether each is reached.</summary>
public readonly record struct ScheduleBounds(double Infimum, double Supremum, bool InfimumAttained = true, bool SupremumAttained = true)
{
    /// <summary>True when every value lies in the interval from lo to hi (open at an end when asked).</summary>
    public bool Within(double lo, double hi, bool lowOpen = false, bool highOpen = false)
    {
        bool lowOk = lowOpen ? Infimum > lo || (Infimum == lo && !InfimumAttained) : Infimum >= lo;
        bool highOk = highOpen ? Supremum < hi || (Supremum == hi && !SupremumAttained) : Supremum <= hi;
        return lowOk && highOk;
    }
}

/// <summary>How a piecewise schedule fills the gaps between its points.</summary>
public enum ScheduleInterpolation
{
    /// <summary>Hold each point's value until the next point.</summary>
    Step,

    /// <summary>Linear between neighbouring points.</summary>
    Linear,
}

/// <summary>One breakpoint of a piecewise schedule.</summary>
public readonly record struct SchedulePoint(int Iteration, double Value);

/// <summary>The same value at every iteration.</summary>
public sealed record ConstantSchedule(double Value) : ScheduleSpec
{
    public override double At(int iteration)
    {
        CheckClock(iteration);
        return Value;
    }

    public override ScheduleBounds Bounds() => new(Value, Value);

    public override IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        Finite(p, "value", Value);
        return p;
    }

    public override JsonObject ToJson() => new() { ["type"] = "constant", ["value"] = Value };
}

/// <summary>start + step floor(x / every), clamped to [min, max]: the paper's w*(tau) = min(0.11, 0.02 + 0.005 floor(tau/150)).</summary>
public sealed record StaircaseSchedule(double Start, double Step, int Every, double? Min = null, double? Max = null) : ScheduleSpec
{
    public override double At(int iteration)
    {
        CheckClock(iteration);
        return Clamp(Start + Step * (iteration / Every), Min, Max);
    }

    public override ScheduleBounds Bounds()
    {
        var (lo, loHit) = ClampBound(Step >= 0 ? Start : double.NegativeInfinity, Step >= 0, Min, Max);
        var (hi, hiHit) = ClampBound(Step <= 0 ? Start : double.PositiveInfinity, Step <= 0, Min, Max);
        return new(lo, hi, loHit, hiHit);
    }

    public override IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        Finite(p, "start", Start);
        Finite(p, "step", Step);
        if (Every < 1) p.Add($"every must be >= 1 (found {Every})");
        MinMax(p, Min, Max);
        return p;
    }

    public override JsonObject ToJson()
    {
        var o = new JsonObject { ["type"] = "staircase", ["start"] = Start, ["step"] = Step, ["every"] = Every };
        if (Min is double lo) o["min"] = lo;
        if (Max is double hi) o["max"] = hi;
        return o;
    }
}

/// <summary>
/// start factor^k, k = floor((x - delay) / every) for x &gt;= delay (unfloored when continuous) and 0 before, clamped
/// to [min, max]: the paper's eps(tau) = max(1/16, 2^(1 - floor(tau/150))) is start 2, factor 1/2, every 150, min 1/16.
/// </summary>
public sealed record ExponentialSchedule(
    double Start, double Factor, int Every, double? Min = null, double? Max = null, int Delay = 0, bool Continuous = false) : ScheduleSpec
{
    public override double At(int iteration)
    {
        CheckClock(iteration);
        double k = iteration < Delay ? 0 : Continuous ? (iteration - Delay) / (double)Every : (iteration - Delay) / Every;
        return Clamp(Start * Math.Pow(Factor, k), Min, Max);
    }

    public override ScheduleBounds Bounds()
    {
        // start > 0 and factor > 0 (Problems): monotone towards 0 (factor < 1) or +infinity (factor > 1), never reaching either
        var (lo, loHit) = ClampBound(Factor < 1 ? 0 : Start, Factor >= 1, Min, Max);
        var (hi, hiHit) = ClampBound(Factor > 1 ? double.PositiveInfinity : Start, Factor <= 1, Min, Max);
        return new(lo, hi, loHit, hiHit);
    }

    public override IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (!(Start > 0) || !double.IsFinite(Start)) p.Add($"start must be positive and finite (found {Fmt(Start)})");
        if (!(Factor > 0) || !double.IsFinite(Factor)) p.Add($"factor must be positive and finite (found {Fmt(Factor)})");
        if (Every < 1) p.Add($"every must be >= 1 (found {Every})");
        if (Delay < 0) p.Add($"delay must be >= 0 (found {Delay})");
        MinMax(p, Min, Max);
        return p;
    }

    public override JsonObject ToJson()
    {
        var o = new JsonObject { ["type"] = "exponential", ["start"] = Start, ["factor"] = Factor, ["every"] = Every };
        if (Min is double lo) o["min"] = lo;
        if (Max is double hi) o["max"] = hi;
        if (Delay != 0) o["delay"] = Delay;
        if (Continuous) o["continuous"] = true;
        return o;
    }
}

/// <summary>Values at breakpoints, held (step) or interpolated (linear) between them and held outside them.</summary>
public sealed record PiecewiseSchedule : ScheduleSpec
{
    private readonly SchedulePoint[] _points;

    public PiecewiseSchedule(IEnumerable<SchedulePoint> points, ScheduleInterpolation interpolation = ScheduleInterpolation.Step)
    {
        _points = points.ToArray();
        Interpolation = interpolation;
    }

    /// <summary>Breakpoints in increasing iteration order.</summary>
    public IReadOnlyList<SchedulePoint> Points => _points;

    public ScheduleInterpolation Interpolation { get; }

    public override double At(int iteration)
    {
        CheckClock(iteration);
        if (_points.Length == 0) throw new InvalidOperationException("piecewise schedule without points");
        if (iteration <= _points[0].Iteration) return _points[0].Value;
        int i = _points.Length - 1;
        while (_points[i].Iteration > iteration) i--; // points[i] is the last at or before the clock
        if (Interpolation == ScheduleInterpolation.Step || i == _points.Length - 1) return _points[i].Value;
        var (a, b) = (_points[i], _points[i + 1]);
        double t = (iteration - a.Iteration) / (double)(b.Iteration - a.Iteration);
        return a.Value + t * (b.Value - a.Value);
    }

    public override ScheduleBounds Bounds() =>
        _points.Length == 0 ? new(double.NaN, double.NaN) : new(_points.Min(p => p.Value), _points.Max(p => p.Value));

    public override IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (_points.Length == 0) p.Add("points must hold at least one [iteration, value] pair");
        for (int i = 0; i < _points.Length; i++)
        {
            if (_points[i].Iteration < 0) p.Add($"points[{i}]: iteration must be >= 0 (found {_points[i].Iteration})");
            if (i > 0 && _points[i].Iteration <= _points[i - 1].Iteration)
                p.Add($"points[{i}]: iterations must increase (found {_points[i].Iteration} after {_points[i - 1].Iteration})");
            Finite(p, $"points[{i}] value", _points[i].Value);
        }
        return p;
    }

    public bool Equals(PiecewiseSchedule? other) =>
        other is not null && Interpolation == other.Interpolation && _points.AsSpan().SequenceEqual(other._points);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Interpolation);
        foreach (var point in _points) h.Add(point);
        return h.ToHashCode();
    }

    public override JsonObject ToJson()
    {
        var points = new JsonArray();
        foreach (var (x, v) in _points) points.Add(new JsonArray(x, v));
        return new JsonObject
        {
            ["type"] = "piecewise",
            ["points"] = points,
            ["interpolation"] = Interpolation == ScheduleInterpolation.Step ? "step" : "linear",
        };
    }
}

/// <summary>
/// base^(scale / max(1, k)), k = floor((x - delay) / every) (0 before delay), at least min. The reference code's
/// importance-sampling temperature max(1, 2^(750 / max(1, it - 50))) is base 2, scale 750, every 1, delay 50, min 1;
/// the paper's max(1.25, 2^(10 / floor(tau/50))) is base 2, scale 10, every 50, min 1.25.
/// </summary>
public sealed record AnnealingSchedule(double Base, double Scale, int Every = 1, int Delay = 0, double? Min = null) : ScheduleSpec
{
    public override double At(int iteration)
    {
        CheckClock(iteration);
        int k = iteration < Delay ? 0 : (iteration - Delay) / Every;
        return Clamp(Math.Pow(Base, Scale / Math.Max(1, k)), Min, null);
    }

    public override ScheduleBounds Bounds()
    {
        // exponent runs from scale (k <= 1) towards 0, so the values run from base^scale towards 1 without reaching it
        double first = Math.Pow(Base, Scale);
        bool falling = first > 1, rising = first < 1;
        var (lo, loHit) = ClampBound(falling ? 1 : first, !falling, Min, null);
        var (hi, hiHit) = ClampBound(rising ? 1 : first, !rising, Min, null);
        return new(lo, hi, loHit, hiHit);
    }

    public override IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (!(Base > 0) || !double.IsFinite(Base)) p.Add($"base must be positive and finite (found {Fmt(Base)})");
        Finite(p, "scale", Scale);
        if (Base > 0 && double.IsFinite(Scale) && !double.IsFinite(Math.Pow(Base, Math.Abs(Scale))))
            p.Add($"base^scale overflows (base {Fmt(Base)}, scale {Fmt(Scale)})");
        if (Every < 1) p.Add($"every must be >= 1 (found {Every})");
        if (Delay < 0) p.Add($"delay must be >= 0 (found {Delay})");
        MinMax(p, Min, null);
        return p;
    }

    public override JsonObject ToJson()
    {
        var o = new JsonObject { ["type"] = "annealing", ["base"] = Base, ["scale"] = Scale };
        if (Every != 1) o["every"] = Every;
        if (Delay != 0) o["delay"] = Delay;
        if (Min is double lo) o["min"] = lo;
        return o;
    }
}
