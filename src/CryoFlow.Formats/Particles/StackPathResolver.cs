using System.Collections.Concurrent;
using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.Particles;

/// <summary>
/// Finds the file behind a stack path as written in the metadata. A relative path is tried against
/// the metadata file's folder, then the working directory, then <c>--datadir</c> (DESIGN.md 2); an
/// absolute one as it is. Results, found or not, are cached per distinct path, so a 10^6-particle
/// table with a few thousand stacks touches the disk a few thousand times. Thread-safe.
/// </summary>
public sealed class StackPathResolver
{
    private readonly ConcurrentDictionary<string, (string? Found, string[] Tried)> _cache = new(StringComparer.Ordinal);

    /// <param name="metadataFolder">folder of the STAR or .cs file; null when there is none</param>
    /// <param name="dataDir">the user's <c>--datadir</c>, or null</param>
    /// <param name="workingDirectory">default: the process's working directory now</param>
    public StackPathResolver(string? metadataFolder, string? dataDir = null, string? workingDirectory = null)
    {
        MetadataFolder = metadataFolder is null ? null : Path.GetFullPath(metadataFolder);
        DataDir = dataDir is null ? null : Path.GetFullPath(dataDir);
        WorkingDirectory = Path.GetFullPath(workingDirectory ?? Environment.CurrentDirectory);
    }

    public string? MetadataFolder { get; }

    public string WorkingDirectory { get; }

    public string? DataDir { get; }

    /// <summary>The full path of an existing file; a <see cref="DataFileNotFoundException"/> listing every place tried otherwise.</summary>
    /// <param name="where">the particle or field that refers to the stack, for the message</param>
    public string Resolve(string asWritten, DataLocation where = default)
    {
        var (found, tried) = _cache.GetOrAdd(asWritten, Look);
        return found ?? throw new DataFileNotFoundException(asWritten, tried, where);
    }

    /// <summary>Like <see cref="Resolve"/>, without throwing.</summary>
    public bool TryResolve(string asWritten, out string fullPath)
    {
        var (found, _) = _cache.GetOrAdd(asWritten, Look);
        fullPath = found ?? "";
        return found is not null;
    }

    /// <summary>The places tried for a path, in order, each with where it comes from.</summary>
    public IReadOnlyList<(string Path, string Origin)> Candidates(string asWritten)
    {
        if (Path.IsPathRooted(asWritten)) return [(Path.GetFullPath(asWritten), "absolute path")];
        var list = new List<(string, string)>(3);
        if (MetadataFolder is not null) list.Add((Path.GetFullPath(Path.Combine(MetadataFolder, asWritten)), "metadata file's folder"));
        list.Add((Path.GetFullPath(Path.Combine(WorkingDirectory, asWritten)), "working directory"));
        if (DataDir is not null) list.Add((Path.GetFullPath(Path.Combine(DataDir, asWritten)), "--datadir"));
        return list;
    }

    private (string?, string[]) Look(string asWritten)
    {
        var candidates = Candidates(asWritten);
        foreach (var (p, _) in candidates)
            if (File.Exists(p)) return (p, []);
        var tried = candidates.Select(c => $"{c.Path} ({c.Origin})").ToList();
        if (DataDir is null && !Path.IsPathRooted(asWritten)) tried.Add("no --datadir given");
        return (null, tried.ToArray());
    }
}
