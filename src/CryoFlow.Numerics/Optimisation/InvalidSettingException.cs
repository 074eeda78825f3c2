using System.Collections.Immutable;

namespace CryoFlow.Numerics.Optimisation;

/// <summary>
/// A schedule or optimisation setting out of range. <see cref="Field"/> is the member name in camelCase (a path
/// relative to the object being built, e.g. <c>points[2].at</c> or <c>lineSearch.growth</c>): for schedules it is the
/// JSON member, so that <see cref="Schedule.Parse(System.Text.Json.JsonElement, string)"/> can point at it.
/// </summary>
public sealed class InvalidSettingException(string field, string problem) : ArgumentException($"{field}: {problem}")
{
    /// <summary>Member (relative path) that holds the bad value.</summary>
    public string Field { get; } = field;

    /// <summary>What is wrong with it, without the field name.</summary>
    public string Problem { get; } = problem;

    /// <summary>The same problem seen from an enclosing object: <c>prefix.field</c>.</summary>
    public InvalidSettingException Within(string prefix) => new($"{prefix}.{Field}", Problem);
}

internal static class SettingCheck
{
    public static double Finite(double v, string field) =>
        double.IsFinite(v) ? v : throw new InvalidSettingException(field, $"must be a finite number (found {v})");

    public static double Positive(double v, string field) =>
        double.IsFinite(v) && v > 0 ? v : throw new InvalidSettingException(field, $"must be positive and finite (found {v})");

    public static double AtLeast(double v, double min, string field) =>
        double.IsFinite(v) && v >= min ? v : throw new InvalidSettingException(field, $"must be a finite number >= {min} (found {v})");

    public static double InRange(double v, double min, double max, string field) =>
        v >= min && v <= max ? v : throw new InvalidSettingException(field, $"must be in [{min}, {max}] (found {v})");

    public static T NotNull<T>(T? v, string field) where T : class => v ?? throw new InvalidSettingException(field, "is missing");

    public static int AtLeast(int v, int min, string field) =>
        v >= min ? v : throw new InvalidSettingException(field, $"must be at least {min} (found {v})");

    public static ImmutableArray<Schedule> NonEmpty(IEnumerable<Schedule> items)
    {
        ImmutableArray<Schedule> a = [.. items];
        if (a.Length == 0) throw new InvalidSettingException("items", "needs at least one schedule");
        for (int i = 0; i < a.Length; i++)
            if (a[i] is null) throw new InvalidSettingException($"items[{i}]", "is missing");
        return a;
    }

    public static int Hash(ImmutableArray<Schedule> items)
    {
        var hash = new HashCode();
        foreach (var s in items) hash.Add(s);
        return hash.ToHashCode();
    }
}
