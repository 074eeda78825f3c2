using CryoFlow.Formats.Errors;
using CryoFlow.Formats.Micrographs;

namespace CryoFlow.Formats.Coordinates;

/// <summary>The picks of one micrograph.</summary>
public sealed record MatchedMicrograph(string MicrographPath, CoordinateSource Picks);

/// <summary>Micrographs paired with their picks, and what could not be paired.</summary>
/// <param name="Matched">in micrograph name order</param>
/// <param name="MicrographsWithoutPicks">micrographs no coordinate file names</param>
/// <param name="PicksWithoutMicrograph">coordinate sets whose micrograph is not among those given</param>
public sealed record MatchReport(
    IReadOnlyList<MatchedMicrograph> Matched,
    IReadOnlyList<string> MicrographsWithoutPicks,
    IReadOnlyList<CoordinateSource> PicksWithoutMicrograph)
{
    /// <summary>One paragraph for the log: counts, then up to <paramref name="listed"/> names of each kind of unmatched.</summary>
    public string Describe(int listed = 10)
    {
        static string Some(IEnumerable<string> names, int count, int listed) =>
            string.Join(", ", names.Take(listed)) + (count > listed ? $", ... ({count - listed} more)" : "");
        var lines = new List<string> { $"{Matched.Count} micrographs with picks" };
        if (MicrographsWithoutPicks.Count > 0)
            lines.Add($"{MicrographsWithoutPicks.Count} micrographs without a coordinate file (skipped): {Some(MicrographsWithoutPicks, MicrographsWithoutPicks.Count, listed)}");
        if (PicksWithoutMicrograph.Count > 0)
            lines.Add($"{PicksWithoutMicrograph.Count} coordinate sets naming no given micrograph (skipped): "
                + Some(PicksWithoutMicrograph.Select(s => s.KeyIsFileName ? s.SourcePath : $"'{s.MicrographKey}' in {s.SourcePath}"), PicksWithoutMicrograph.Count, listed));
        return string.Join("; ", lines);
    }
}

/// <summary>Pairs micrographs with coordinate sets by name (<see cref="MicrographIndex"/>).</summary>
public static class MicrographMatcher
{
    /// <exception cref="CryoFlowDataException">two micrographs share a name, or two coordinate files name the same micrograph</exception>
    public static MatchReport Match(IEnumerable<string> micrographs, IEnumerable<CoordinateSource> sets) => Match(new MicrographIndex(micrographs), sets);

    public static MatchReport Match(MicrographIndex index, IEnumerable<CoordinateSource> sets)
    {
        var byMicrograph = new Dictionary<string, CoordinateSource>(StringComparer.Ordinal);
        var orphans = new List<CoordinateSource>();
        foreach (var set in sets)
        {
            string? mic = index.Find(set.MicrographKey, set.KeyIsFileName);
            if (mic is null) { orphans.Add(set); continue; }
            if (byMicrograph.TryGetValue(mic, out var other))
                throw new CryoFlowDataException($"two coordinate sets name micrograph {mic}; give one picker's output at a time",
                    new DataLocation(FilePath: set.SourcePath, Expected: "one coordinate set per micrograph", Found: $"{other} and {set}"));
            byMicrograph[mic] = set;
        }
        var matched = index.Paths.Where(byMicrograph.ContainsKey).Select(p => new MatchedMicrograph(p, byMicrograph[p])).ToArray();
        var without = index.Paths.Where(p => !byMicrograph.ContainsKey(p)).ToArray();
        return new MatchReport(matched, without, orphans);
    }
}
