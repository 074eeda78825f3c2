using CryoFlow.Formats.Errors;

namespace CryoFlow.Pipeline.Configuration;

/// <summary>One problem with a configuration: where it came from, where in the JSON tree, and what is wrong.</summary>
/// <param name="Path">dotted JSON path, e.g. "optimiser.lineSearch.every" (empty for the whole document)</param>
/// <param name="Problem">what is wrong, with the expected and found values where they help</param>
/// <param name="Origin">the layer that set it: a preset file as named, "--set", or "built-in defaults"; null until the loader knows</param>
public sealed record ConfigIssue(string Path, string Problem, string? Origin = null)
{
    public override string ToString()
    {
        string where = Path.Length > 0 ? Path + ": " : "";
        return Origin is null ? where + Problem : $"{Origin}: {where}{Problem}";
    }
}

/// <summary>
/// A configuration that cannot be used: malformed JSON, unknown keys, wrong types or values out of range. Lists every
/// issue found in the offending layer, each as "ORIGIN: PATH: PROBLEM" (one per line in <see cref="Message"/>). A kind of
/// <see cref="CryoFlowDataException"/>, so the command line reports it like any other bad input.
/// </summary>
public sealed class ConfigException : CryoFlowDataException
{
    public ConfigException(IReadOnlyList<ConfigIssue> issues, Exception? inner = null)
        : base(issues.Count > 0 ? issues[0].Problem : "invalid configuration",
            new DataLocation(FilePath: issues.Count > 0 ? issues[0].Origin : null, Field: issues.Count > 0 ? issues[0].Path : null), inner)
    {
        if (issues.Count == 0) throw new ArgumentException("a configuration error needs at least one issue", nameof(issues));
        Issues = issues;
    }

    public ConfigException(ConfigIssue issue, Exception? inner = null)
        : this([issue], inner)
    {
    }

    /// <summary>Every problem found, in document order.</summary>
    public IReadOnlyList<ConfigIssue> Issues { get; }

    public override string Message => string.Join(Environment.NewLine, Issues);
}
