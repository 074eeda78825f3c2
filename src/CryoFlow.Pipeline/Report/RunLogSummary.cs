using System.Text.RegularExpressions;

namespace CryoFlow.Pipeline.Report;

/// <summary>
/// What the report takes from a run's log (Serilog text: "yyyy-MM-dd HH:mm:ss.fff LVL message"): the part from the
/// last "cryoflow VERSION: COMMAND LINE" line on (the latest run, when runs were started again in the same folder),
/// or the whole log when it has no such line.
/// </summary>
/// <param name="FirstLines">the first lines, verbatim</param>
/// <param name="Version">from the "cryoflow VERSION: COMMAND LINE" line the commands write first</param>
/// <param name="CommandLine">from the same line</param>
/// <param name="InputLine">the run's "N particles, box D, A Å/px; ..." line</param>
/// <param name="Problems">WRN, ERR and FTL lines, up to the cap</param>
/// <param name="ProblemCount">all of them</param>
public sealed partial record RunLogSummary(IReadOnlyList<string> FirstLines, string? Version, string? CommandLine, string? InputLine,
    IReadOnlyList<string> Problems, int ProblemCount)
{
    /// <param name="path">the log; it may still be open for writing</param>
    /// <param name="firstLines">how many opening lines to keep</param>
    /// <param name="maxProblems">how many warning and error lines to keep</param>
    public static RunLogSummary Read(string path, int firstLines = 6, int maxProblems = 500)
    {
        var first = new List<string>();
        var problems = new List<string>();
        string? version = null, commandLine = null, input = null;
        int problemCount = 0;
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        while (reader.ReadLine() is string line)
        {
            var entry = Entry().Match(line);
            string level = entry.Groups["level"].Value, message = entry.Groups["message"].Value;
            if (entry.Success && level == "INF" && Banner().Match(message) is { Success: true } banner)
            {
                // a run started again in the same folder appends to its log: the report is about the latest run
                first.Clear();
                problems.Clear();
                problemCount = 0;
                input = null;
                (version, commandLine) = (banner.Groups["version"].Value, banner.Groups["command"].Value);
            }
            if (first.Count < firstLines) first.Add(line);
            if (!entry.Success) continue; // an exception's stack trace, continuing the entry above
            if (level is "WRN" or "ERR" or "FTL")
            {
                if (problemCount++ < maxProblems) problems.Add(line);
            }
            else if (input is null && message.Contains(" particles, box ", StringComparison.Ordinal))
                input = message;
        }
        return new RunLogSummary(first, version, commandLine, input, problems, problemCount);
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? (?<level>[A-Z]{3}) (?<message>.*)$")]
    private static partial Regex Entry();

    [GeneratedRegex(@"^cryoflow (?<version>\S+): (?<command>.*)$")]
    private static partial Regex Banner();
}
