using CryoFlow.Formats.Errors;

namespace CryoFlow.Pipeline.Stages.Extract;

/// <summary>
/// Command-line file arguments: a file, a folder (its files with the extensions asked for), or a pattern with
/// <c>*</c> and <c>?</c> in the file name (quoted, so CryoFlow expands it: <c>'Micrographs/*.mrc'</c>; an unquoted
/// one arrives expanded by the shell, which is the same). Paths keep the form they were given in (relative stays
/// relative), sorted and without repeats.
/// </summary>
public static class InputFiles
{
    private static readonly EnumerationOptions Options = new() { MatchType = MatchType.Simple, MatchCasing = MatchCasing.CaseSensitive, RecurseSubdirectories = false };

    /// <param name="patterns">as given</param>
    /// <param name="what">what the files are, for messages ("micrographs")</param>
    /// <param name="extensions">for folders: the extensions to take (lower case, with the dot)</param>
    /// <exception cref="DataFileNotFoundException">a name that is no file or folder, or a pattern that matches nothing</exception>
    public static IReadOnlyList<string> Expand(IEnumerable<string> patterns, string what, IReadOnlyCollection<string> extensions) =>
        Match(patterns, what, extensions, required: true);

    /// <summary>Like <see cref="Expand"/>, but a pattern or folder that matches nothing yet is no error (live mode: files arrive later).</summary>
    public static IReadOnlyList<string> Find(IEnumerable<string> patterns, string what, IReadOnlyCollection<string> extensions) =>
        Match(patterns, what, extensions, required: false);

    private static IReadOnlyList<string> Match(IEnumerable<string> patterns, string what, IReadOnlyCollection<string> extensions, bool required)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string pattern in patterns)
        {
            string dir = Path.GetDirectoryName(pattern) ?? "";
            string name = Path.GetFileName(pattern);
            if (dir.AsSpan().IndexOfAny('*', '?') >= 0)
                throw new ArgumentException($"{what}: '{pattern}': wildcards are allowed in the file name only");
            var matched = new List<string>();
            if (name.AsSpan().IndexOfAny('*', '?') >= 0)
            {
                if (Directory.Exists(dir.Length == 0 ? "." : dir))
                    foreach (string f in Directory.EnumerateFiles(dir.Length == 0 ? "." : dir, name, Options))
                        matched.Add(Path.Combine(dir, Path.GetFileName(f)));
            }
            else if (File.Exists(pattern)) matched.Add(pattern);
            else if (Directory.Exists(pattern))
            {
                foreach (string f in Directory.EnumerateFiles(pattern, "*", Options))
                    if (extensions.Contains(Path.GetExtension(f).ToLowerInvariant())) matched.Add(Path.Combine(pattern, Path.GetFileName(f)));
            }
            found.UnionWith(matched);
            if (matched.Count == 0 && required)
                throw new DataFileNotFoundException(pattern, [Path.GetFullPath(pattern)], new DataLocation(Field: what,
                    Expected: $"a file, a folder with {string.Join("/", extensions)} files, or a pattern matching some", Found: "nothing"));
        }
        return [.. found];
    }
}
