using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.Micrographs;

/// <summary>
/// Finds a micrograph by the name another file gives it. Micrographs are known by their file name without
/// extension (the stem), which must be unique. Two kinds of names are looked up:
/// <list type="bullet">
/// <item>a name a file states (rlnMicrographName, Topaz image_name): its file name, with or without extension,
/// equals a micrograph's stem (folders are ignored: pickers run elsewhere);</item>
/// <item>a per-micrograph file's own name (mic001_autopick.star, mic001.box, mic001.txt): a micrograph's stem, alone
/// or followed by '_', '-' or '.' and a suffix; the longest such stem wins (mic_10_autopick is mic_10, not mic_1).</item>
/// </list>
/// </summary>
public sealed class MicrographIndex
{
    private static readonly char[] Separators = ['_', '-', '.'];
    private readonly Dictionary<string, string> _byStem = new(StringComparer.Ordinal);

    /// <exception cref="CryoFlowDataException">two micrographs have the same stem</exception>
    public MicrographIndex(IEnumerable<string> micrographPaths)
    {
        foreach (string path in micrographPaths)
        {
            string stem = Stem(path);
            if (_byStem.TryGetValue(stem, out string? other))
            {
                if (other == path) continue;
                throw new CryoFlowDataException($"two micrographs are both named '{stem}'; picks and CTF files are matched to micrographs by name",
                    new DataLocation(FilePath: path, Expected: "unique micrograph names", Found: $"{other} and {path}"));
            }
            _byStem[stem] = path;
        }
    }

    public int Count => _byStem.Count;

    /// <summary>Micrograph paths as given, in name order.</summary>
    public IEnumerable<string> Paths => _byStem.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value);

    /// <summary>A file name without folders and extension.</summary>
    public static string Stem(string path) => Path.GetFileNameWithoutExtension(path.Replace('\\', '/').Split('/')[^1]);

    /// <summary>The micrograph a name refers to, or null.</summary>
    /// <param name="name">the name as written</param>
    /// <param name="isFileName">true for a per-micrograph file's own stem, which may carry a suffix</param>
    public string? Find(string name, bool isFileName)
    {
        string file = name.Replace('\\', '/').Split('/')[^1];
        if (!isFileName)
            return _byStem.GetValueOrDefault(file) ?? _byStem.GetValueOrDefault(Path.GetFileNameWithoutExtension(file));
        if (_byStem.TryGetValue(file, out string? exact)) return exact;
        for (int end = file.LastIndexOfAny(Separators); end > 0; end = file.LastIndexOfAny(Separators, end - 1))
            if (_byStem.TryGetValue(file[..end], out string? hit)) return hit;
        return null;
    }
}
