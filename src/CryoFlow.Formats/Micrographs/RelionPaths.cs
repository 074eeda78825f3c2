using CryoFlow.Formats.Errors;

namespace CryoFlow.Formats.Micrographs;

/// <summary>Paths written inside RELION STAR files (micrograph names, coordinate files), which are relative to the project folder.</summary>
public static class RelionPaths
{
    /// <summary>
    /// The file a path in <paramref name="starFile"/> refers to: as written when it exists from the working directory
    /// (RELION runs in the project folder), else relative to the STAR file's folder or one of its parents (the file
    /// sits in Job/jobNNN/ under the project).
    /// </summary>
    /// <exception cref="DataFileNotFoundException">nowhere; lists every place tried</exception>
    public static string Resolve(string starFile, string reference, DataLocation where)
    {
        if (Path.IsPathRooted(reference)) return File.Exists(reference) ? reference : throw new DataFileNotFoundException(reference, [reference], where);
        if (File.Exists(reference)) return reference;
        var tried = new List<string> { Path.GetFullPath(reference) };
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(starFile))!); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, reference);
            if (File.Exists(candidate)) return candidate;
            tried.Add(candidate);
        }
        throw new DataFileNotFoundException(reference, tried, where);
    }
}
