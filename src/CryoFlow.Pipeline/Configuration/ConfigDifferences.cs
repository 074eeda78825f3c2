using System.Text.Json.Nodes;

namespace CryoFlow.Pipeline.Configuration;

/// <summary>One key whose resolved value differs between two configurations (JSON text; null where absent).</summary>
public sealed record ConfigChange(string Path, string? Before, string? After)
{
    public override string ToString() => $"{Path}: {Before ?? "(none)"} -> {After ?? "(none)"}";
}

/// <summary>
/// How two resolved configurations differ, key by key, and which differences a resumed run may take without changing
/// what it computes: how long it runs and what it writes (<see cref="RunControlKeys"/>). Any other change makes the
/// resumed run a different run from the one checkpointed.
/// </summary>
public static class ConfigDifferences
{
    /// <summary>Keys (and their sub-keys) that change neither the map nor the poses of the iterations run.</summary>
    public static IReadOnlyList<string> RunControlKeys { get; } =
        ["run.maxIterations", "run.timeLimitMinutes", "output.mapEvery", "output.checkpoint"];

    /// <summary>The leaves that differ, in the order of the configuration's keys.</summary>
    public static IReadOnlyList<ConfigChange> Between(ReconstructConfig before, ReconstructConfig after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var changes = new List<ConfigChange>();
        Compare(ConfigBinder.ToNode(before), ConfigBinder.ToNode(after), "", changes);
        return changes;
    }

    /// <summary>Whether a change alters what the run computes (anything but <see cref="RunControlKeys"/>).</summary>
    public static bool ChangesResult(ConfigChange change) =>
        !RunControlKeys.Any(k => change.Path == k || change.Path.StartsWith(k + ".", StringComparison.Ordinal));

    private static void Compare(JsonNode? a, JsonNode? b, string path, List<ConfigChange> changes)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(p => p.Key).Concat(ob.Select(p => p.Key).Where(k => !oa.ContainsKey(k))))
                Compare(oa[key], ob[key], path.Length == 0 ? key : $"{path}.{key}", changes);
            return;
        }
        string? ta = a?.ToJsonString(), tb = b?.ToJsonString();
        if (ta != tb) changes.Add(new ConfigChange(path, ta, tb));
    }
}
