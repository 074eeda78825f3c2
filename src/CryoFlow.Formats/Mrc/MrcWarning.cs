using System.Globalization;
using System.Text;
using CryoFlow.Formats.Errors;
using Serilog;

namespace CryoFlow.Formats.Mrc;

/// <summary>
/// Something a real MRC file does that MRC2014 forbids but that CryoFlow reads anyway (no "MAP " stamp,
/// zero machine stamp, NVERSION 0, a stack marked as a volume...). Carries the same facts as
/// <see cref="MrcFormatException"/>, so a log line says as much as an error would.
/// </summary>
/// <param name="Problem">what was tolerated and how it was read</param>
/// <param name="Where">file, field, byte offset, expected and found</param>
public sealed record MrcWarning(string Problem, DataLocation Where)
{
    /// <summary>The header field concerned, e.g. "MACHST".</summary>
    public string? Field => Where.Field;

    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Where.FilePath is not null) sb.Append(Where.FilePath).Append(": ");
        if (Where.Record is not null) sb.Append("record ").Append(Where.Record.Value.ToString(CultureInfo.InvariantCulture)).Append(", ");
        if (Where.Field is not null) sb.Append("field ").Append(Where.Field).Append(", ");
        if (Where.ByteOffset is not null) sb.Append("byte offset ").Append(Where.ByteOffset.Value.ToString(CultureInfo.InvariantCulture)).Append(", ");
        sb.Append(Problem);
        if (Where.Expected is not null || Where.Found is not null)
            sb.Append(" (expected ").Append(Where.Expected ?? "?").Append(", found ").Append(Where.Found ?? "?").Append(')');
        return sb.ToString();
    }
}

/// <summary>Collects warnings for one file and logs each as it is raised.</summary>
internal sealed class MrcWarningSink(string path, ILogger? logger)
{
    private readonly List<MrcWarning> _warnings = [];
    private readonly ILogger _logger = logger ?? Log.Logger;

    public string Path { get; } = path;

    public IReadOnlyList<MrcWarning> Warnings => _warnings;

    public void Add(string problem, string field, long? byteOffset = null, string? expected = null, string? found = null)
    {
        var w = new MrcWarning(problem, new DataLocation(Path, field, byteOffset, Expected: expected, Found: found));
        _warnings.Add(w);
        _logger.Warning("MRC file {MrcFile}, field {MrcField}: {Problem} (expected {Expected}, found {Found})",
            Path, field, problem, expected, found);
    }

    /// <summary>A snapshot, so later warnings (layout checks) do not change a header already handed out.</summary>
    public IReadOnlyList<MrcWarning> Snapshot() => _warnings.ToArray();
}
